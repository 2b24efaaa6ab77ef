/// The breach verdicts of an alert's last evaluations, for flap detection.
///
/// One bit per evaluation (bit 0 the newest) in a 64-bit word, so recording and
/// scoring cost a few instructions per set bit. See `FlapDetection` for the score.
struct FlapHistory: Sendable, Equatable {
    /// Evaluations kept, `FlapDetection.minimumWindow…maximumWindow`.
    let window: Int
    /// Bit `i` is the verdict `i` evaluations ago (1 = in breach).
    private(set) var bits: UInt64 = 0
    /// Verdicts recorded so far, at most `window`.
    private(set) var count = 0
    /// Whether the alert is currently flapping (set by `record`, with hysteresis).
    private(set) var isFlapping = false

    init(window: Int) {
        self.window = Swift.min(Swift.max(window, FlapDetection.minimumWindow), FlapDetection.maximumWindow)
    }

    /// A history read from a checkpoint: `bits` keeps the newest `window` verdicts and
    /// `count` is clamped into 0…`window`, whatever the input says.
    init(window: Int, bits: UInt64, count: Int, isFlapping: Bool) {
        self.init(window: window)
        self.bits = self.window < 64 ? bits & ((UInt64(1) << UInt64(self.window)) - 1) : bits
        self.count = Swift.min(Swift.max(0, count), self.window)
        self.isFlapping = isFlapping
    }

    /// Records one verdict and updates `isFlapping` against `settings`; returns true
    /// when `isFlapping` changed.
    mutating func record(_ breach: Bool, settings: FlapDetection) -> Bool {
        bits = (bits << 1) | (breach ? 1 : 0)
        if window < 64 { bits &= (UInt64(1) << UInt64(window)) - 1 }
        count = Swift.min(count + 1, window)
        let percent = percentStateChange
        let was = isFlapping
        if isFlapping {
            if percent < settings.low { isFlapping = false }
        } else if percent > settings.high {
            isFlapping = true
        }
        return was != isFlapping
    }

    /// Forgets every verdict and stops flapping.
    mutating func reset() {
        bits = 0
        count = 0
        isFlapping = false
    }

    /// Weighted percent of state change over the window, 0…100.
    ///
    /// A change between the verdicts `i` and `i + 1` evaluations ago weighs
    /// `1.2 − 0.4·i/(window − 2)`; the sum is divided by the `window − 1` possible
    /// changes, so a history not yet full counts its missing past as steady.
    var percentStateChange: Double {
        guard count >= 2 else { return 0 }
        var changes = (bits ^ (bits >> 1)) & ((UInt64(1) << UInt64(count - 1)) - 1)
        let span = Double(window - 2)
        var sum = 0.0
        while changes != 0 {
            let i = changes.trailingZeroBitCount
            sum += 1.2 - 0.4 * Double(i) / span
            changes &= changes - 1
        }
        return sum * 100 / Double(window - 1)
    }
}
