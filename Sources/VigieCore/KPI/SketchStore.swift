/// Dense counts for a run of consecutive sketch bin indices, used by `QuantileSketch`
/// for one sign of values.
///
/// `bins[i]` counts index `offset + i`. Only `[minIndex, maxIndex]` holds non-zero
/// counts; the array may cover more (slack, so that growth is rare). When covering a
/// new index would need more than `maxBins` bins, the lowest indices are collapsed
/// into the lowest kept one (DDSketch's "collapsing lowest dense store"): the
/// counts stay exact, only the values of the smallest magnitudes lose accuracy.
///
/// Allocation happens on the first insert and when the occupied range outgrows the
/// array (never beyond `maxBins` entries); `clear()` keeps the array.
struct SketchStore: Sendable {
    /// Counts; `bins[i]` is the count of index `offset + i`.
    private(set) var bins: [UInt64] = []
    /// The index counted by `bins[0]`.
    private(set) var offset: Int = 0
    /// Lowest occupied index; greater than `maxIndex` when the store is empty.
    private(set) var minIndex: Int = 1
    /// Highest occupied index.
    private(set) var maxIndex: Int = 0
    /// Sum of all counts.
    private(set) var total: UInt64 = 0
    /// Most bins this store ever holds.
    let maxBins: Int

    /// Bins allocated on first use.
    private static let initialBins = 64

    init(maxBins: Int) {
        self.maxBins = Swift.max(1, maxBins)
    }

    /// True when no count was added since creation or the last `clear()`.
    var isEmpty: Bool { maxIndex < minIndex }

    /// Adds `count` at `index`: O(1) when the index is within the occupied range,
    /// amortised O(1) otherwise.
    @inline(__always)
    mutating func add(index: Int, count: UInt64) {
        guard count > 0 else { return }
        if index >= minIndex, index <= maxIndex {
            bins[index &- offset] &+= count
        } else {
            let target = include(index)
            bins[target &- offset] &+= count
        }
        total &+= count
    }

    /// Count at `index` (0 outside the occupied range).
    func count(at index: Int) -> UInt64 {
        guard index >= minIndex, index <= maxIndex else { return 0 }
        return bins[index - offset]
    }

    /// Adds every count of `other` (which must use the same index mapping).
    ///
    /// O(other's occupied range).
    mutating func merge(_ other: SketchStore) {
        guard !other.isEmpty else { return }
        _ = include(other.minIndex)
        _ = include(other.maxIndex)
        let low = minIndex
        for index in other.minIndex...other.maxIndex {
            let c = other.bins[index - other.offset]
            if c != 0 {
                bins[Swift.max(index, low) - offset] &+= c
            }
        }
        total &+= other.total
    }

    /// Empties the store, keeping its allocation. O(occupied range).
    mutating func clear() {
        if !isEmpty {
            for index in minIndex...maxIndex {
                bins[index - offset] = 0
            }
        }
        minIndex = 1
        maxIndex = 0
        total = 0
    }

    /// Widens the occupied range to include `index`, collapsing the lowest indices
    /// beyond `maxBins`, and makes the array cover the range. Returns the index whose
    /// bin receives a count for `index` (`index` itself unless it was collapsed).
    private mutating func include(_ index: Int) -> Int {
        if isEmpty {
            minIndex = index
            maxIndex = index
            if bins.isEmpty {
                bins = [UInt64](repeating: 0, count: Swift.min(Self.initialBins, maxBins))
            }
            if index < offset || index >= offset + bins.count {
                // Every bin is zero: re-centre for free.
                offset = index - bins.count / 2
            }
            return index
        }
        var newMin = Swift.min(minIndex, index)
        let newMax = Swift.max(maxIndex, index)
        if newMax - newMin + 1 > maxBins {
            newMin = newMax - maxBins + 1
        }
        var collapsed: UInt64 = 0
        if newMin > minIndex {
            let highest = Swift.min(newMin - 1, maxIndex)
            for i in minIndex...highest {
                collapsed &+= bins[i - offset]
                bins[i - offset] = 0
            }
        }
        minIndex = newMin
        maxIndex = newMax
        cover()
        if collapsed != 0 {
            bins[newMin - offset] &+= collapsed
        }
        return Swift.max(index, newMin)
    }

    /// Makes `bins` cover `[minIndex, maxIndex]`, moving the existing counts (which
    /// all lie inside that range). Allocates only when the range outgrows the array.
    private mutating func cover() {
        if minIndex >= offset, maxIndex < offset + bins.count { return }
        let needed = maxIndex - minIndex + 1
        if needed <= bins.count {
            shift(to: minIndex - (bins.count - needed) / 2)
            return
        }
        let newCount = Swift.min(maxBins, Swift.max(needed + needed / 2, bins.count * 2))
        let newOffset = minIndex - (newCount - needed) / 2
        var newBins = [UInt64](repeating: 0, count: newCount)
        let from = Swift.max(offset, newOffset)
        let to = Swift.min(offset + bins.count, newOffset + newCount)
        if from < to {
            for absolute in from..<to {
                newBins[absolute - newOffset] = bins[absolute - offset]
            }
        }
        bins = newBins
        offset = newOffset
    }

    /// Moves the counts in place so that `bins[0]` counts `newOffset`.
    private mutating func shift(to newOffset: Int) {
        let delta = newOffset - offset
        let n = bins.count
        if delta > 0 {
            if delta < n {
                for p in delta..<n { bins[p - delta] = bins[p] }
            }
            for p in Swift.max(0, n - delta)..<n { bins[p] = 0 }
        } else if delta < 0 {
            let d = -delta
            if d < n {
                for p in stride(from: n - 1 - d, through: 0, by: -1) { bins[p + d] = bins[p] }
            }
            for p in 0..<Swift.min(d, n) { bins[p] = 0 }
        }
        offset = newOffset
    }
}
