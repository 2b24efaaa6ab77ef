/// What `AlertEvaluator.restoreState(from:)` brought back from a checkpoint and what it
/// left out, for the daemon's log.
public struct AlertRestoreReport: Sendable, Equatable {
    /// Rules whose state was restored, in rule order.
    public var restoredRules: [String] = []
    /// Rules of the evaluator with no state stored under their definition (new or
    /// edited rules): they start inactive. In rule order.
    public var emptyRules: [String] = []
    /// Stored rules not restored, with why: `name (definition changed)` or
    /// `name (no longer configured)`.
    public var droppedRules: [String] = []
    /// Series states restored (KPI-level deadman states included), all rules together.
    public var seriesRestored = 0

    /// An empty report.
    public init() {}
}

/// Checkpoints of the alert state machines: `encodeState(into:)` and
/// `restoreState(from:)`.
///
/// **Format** (section `A`, version 1; integers are LEB128 varints, signed ones
/// zig-zag, doubles IEEE bit patterns):
/// ```
/// "A" 1  rule_count
/// per rule: name (string)  fingerprint (bytes)  body (bytes)
/// body: saw_series (bool)  schedule_open (bool)  open_since
///       has_kpi_level (bool) [series state]  series_count  series states
/// series state: group (count, key/value strings)  phase  since  last_transition_at
///       first_seen  cause (string)  flags  [value] [input value] [input samples]
///       [last_sample_at] [cleared_at] [flap bits, count, flapping]
/// ```
extension AlertEvaluator {
    /// Format version of `encodeState(into:)`.
    static let stateVersion: UInt8 = 1

    /// Appends the state of every rule: per rule, its name, a fingerprint of its
    /// definition, and each series' state (phase and its start, pending start, the
    /// `keep_firing_for` clock, flap history, last value and input, deadman times), the
    /// KPI-level deadman state and the schedule's.
    ///
    /// The fingerprint covers what the state machine depends on: KPI, comparison and
    /// threshold, `for`, hysteresis, `keep_firing_for`, `min_samples`, `absent_for`,
    /// flap settings and schedule; not `severity` nor `message`, which only change
    /// what transitions say. Call on the engine thread; changes nothing. O(series).
    public func encodeState(into writer: inout BinaryWriter) {
        writer.writeSectionHeader(StateSection.alerts, version: Self.stateVersion)
        writer.writeCount(states.count)
        var body = BinaryWriter(capacity: 1_024)
        for ruleState in states {
            writer.writeString(ruleState.rule.name)
            writer.writeBytes(Self.fingerprint(ruleState.rule))
            body.removeAll()
            body.writeBool(ruleState.sawSeries)
            body.writeBool(ruleState.scheduleOpen)
            body.writeVarInt(ruleState.openSince)
            body.writeBool(ruleState.kpiLevel != nil)
            if let kpiLevel = ruleState.kpiLevel { Self.encode(kpiLevel, into: &body) }
            body.writeCount(ruleState.series.count)
            for state in ruleState.series { Self.encode(state, into: &body) }
            writer.writeBytes(body.bytes)
        }
    }

    /// Restores the state written by `encodeState(into:)`, possibly by an evaluator
    /// with other rules, into this evaluator, which should be fresh (nothing evaluated
    /// yet).
    ///
    /// A stored rule comes back when a rule of the same name has the same definition
    /// fingerprint (see `encodeState(into:)`); it replaces that rule's state. Other
    /// stored rules are skipped and reported. The next `evaluate` and `tick` calls then
    /// produce the transitions the original evaluator would have (a schedule that
    /// opened or closed meanwhile is caught up by the next call, as it would have
    /// been).
    ///
    /// Input is untrusted: truncated or corrupt bytes throw `BinaryDecodingError`,
    /// never trap; counts are checked against the bytes left before anything is
    /// allocated. Each rule is restored whole or not at all, but after a throw the
    /// rules before the failure keep their restored state. O(bytes read).
    @discardableResult
    public func restoreState(from reader: inout BinaryReader) throws -> AlertRestoreReport {
        try reader.readSectionHeader(StateSection.alerts, version: Self.stateVersion, "alert state")
        var positions: [String: Int] = [:]
        for (position, ruleState) in states.enumerated() where positions[ruleState.rule.name] == nil {
            positions[ruleState.rule.name] = position
        }
        var restored = [Bool](repeating: false, count: states.count)
        var report = AlertRestoreReport()
        let count = try reader.readCount(itemsOfAtLeast: 3)
        for _ in 0..<count {
            let name = try reader.readString()
            let print = Array(try reader.readBytes())
            let bodyLength = try reader.readCount(limit: reader.remaining)
            let bodyStart = reader.offset
            _ = try reader.readRaw(count: bodyLength)
            guard let position = positions[name], !restored[position] else {
                report.droppedRules.append("\(name) (no longer configured)")
                continue
            }
            let rule = states[position].rule
            guard print == Self.fingerprint(rule) else {
                report.droppedRules.append("\(name) (definition changed)")
                continue
            }
            var body = BinaryReader(
                UnsafeRawBufferPointer(rebasing: reader.buffer[..<(bodyStart + bodyLength)]),
                offset: bodyStart
            )
            let ruleState = try Self.decodeRuleState(rule: rule, from: &body)
            guard body.isAtEnd else {
                throw BinaryDecodingError(offset: body.offset, reason: "unexpected bytes after alert rule state")
            }
            states[position] = ruleState
            restored[position] = true
            report.seriesRestored += ruleState.series.count + (ruleState.kpiLevel == nil ? 0 : 1)
        }
        for (position, ruleState) in states.enumerated() {
            if restored[position] {
                report.restoredRules.append(ruleState.rule.name)
            } else {
                report.emptyRules.append(ruleState.rule.name)
            }
        }
        return report
    }

    // MARK: Definitions

    /// A canonical encoding of what a rule's state depends on (see
    /// `encodeState(into:)`): equal for equal definitions in any process.
    static func fingerprint(_ rule: AlertRule) -> [UInt8] {
        var w = BinaryWriter(capacity: 96)
        w.writeUInt8(1)
        w.writeString(rule.kpi)
        switch rule.comparison {
        case nil: w.writeUInt8(0)
        case .above(let threshold)?:
            w.writeUInt8(1)
            w.writeDouble(threshold)
        case .below(let threshold)?:
            w.writeUInt8(2)
            w.writeDouble(threshold)
        }
        w.writeVarInt(rule.forDuration)
        w.writeBool(rule.clearThreshold != nil)
        if let clear = rule.clearThreshold { w.writeDouble(clear) }
        w.writeVarInt(rule.keepFiringFor)
        w.writeVarInt(Int64(rule.minSamples))
        w.writeBool(rule.absentFor != nil)
        if let absentFor = rule.absentFor { w.writeVarInt(absentFor) }
        w.writeBool(rule.flap != nil)
        if let flap = rule.flap {
            w.writeVarInt(Int64(flap.window))
            w.writeDouble(flap.high)
            w.writeDouble(flap.low)
        }
        w.writeBool(rule.schedule != nil)
        if let schedule = rule.schedule {
            let days = schedule.weekdays.sorted()
            w.writeCount(days.count)
            for day in days { w.writeVarInt(Int64(day)) }
            w.writeVarInt(Int64(schedule.startMinute))
            w.writeVarInt(Int64(schedule.endMinute))
        }
        return w.bytes
    }

    // MARK: Series states

    /// Flags of an encoded series state: which optional fields follow.
    private enum Layout {
        static let value: UInt8 = 1
        static let input: UInt8 = 2
        static let inputValue: UInt8 = 4
        static let lastSampleAt: UInt8 = 8
        static let clearedAt: UInt8 = 16
        static let flap: UInt8 = 32
        static let all: UInt8 = 63
    }

    private static func encode(_ state: AlertSeriesState, into w: inout BinaryWriter) {
        w.writeCount(state.group.count)
        for pair in state.group {
            w.writeString(pair.key)
            w.writeString(pair.value)
        }
        w.writeUInt8(phaseCode(state.phase))
        w.writeVarInt(state.since)
        w.writeVarInt(state.lastTransitionAt)
        w.writeVarInt(state.firstSeen)
        w.writeString(state.cause)
        var flags: UInt8 = 0
        if state.value != nil { flags |= Layout.value }
        if let input = state.input {
            flags |= Layout.input
            if input.value != nil { flags |= Layout.inputValue }
        }
        if state.lastSampleAt != nil { flags |= Layout.lastSampleAt }
        if state.clearedAt != nil { flags |= Layout.clearedAt }
        if state.flap != nil { flags |= Layout.flap }
        w.writeUInt8(flags)
        if let value = state.value { w.writeDouble(value) }
        if let input = state.input {
            if let value = input.value { w.writeDouble(value) }
            w.writeVarInt(Int64(input.samples))
        }
        if let lastSampleAt = state.lastSampleAt { w.writeVarInt(lastSampleAt) }
        if let clearedAt = state.clearedAt { w.writeVarInt(clearedAt) }
        if let flap = state.flap {
            w.writeVarUInt(flap.bits)
            w.writeCount(flap.count)
            w.writeBool(flap.isFlapping)
        }
    }

    private static func decodeRuleState(rule: AlertRule, from r: inout BinaryReader) throws -> AlertRuleState {
        let sawSeries = try r.readBool()
        let scheduleOpen = try r.readBool()
        let openSince = try r.readVarInt()
        // Without a schedule a rule is always open, whatever a corrupt input says.
        var ruleState = AlertRuleState(rule: rule, open: scheduleOpen || rule.schedule == nil, now: openSince)
        ruleState.sawSeries = sawSeries
        if try r.readBool() { ruleState.kpiLevel = try decodeSeries(rule: rule, from: &r) }
        // A series state takes at least 7 bytes (no tags, one-byte times, no cause).
        let count = try r.readCount(itemsOfAtLeast: 7)
        ruleState.series.reserveCapacity(count)
        for _ in 0..<count {
            let at = r.offset
            let state = try decodeSeries(rule: rule, from: &r)
            guard ruleState.index[state.group] == nil else {
                throw BinaryDecodingError(offset: at, reason: "alert series listed twice")
            }
            ruleState.index[state.group] = ruleState.series.count
            ruleState.series.append(state)
        }
        return ruleState
    }

    private static func decodeSeries(rule: AlertRule, from r: inout BinaryReader) throws -> AlertSeriesState {
        // A tag takes at least 2 bytes (two empty strings).
        let tags = try r.readCount(itemsOfAtLeast: 2)
        var group: [TagPair] = []
        group.reserveCapacity(tags)
        for _ in 0..<tags {
            let key = try r.readString()
            let value = try r.readString()
            group.append(TagPair(key: key, value: value))
        }
        let phaseAt = r.offset
        let code = try r.readUInt8()
        guard let phase = decodePhase(code) else {
            throw BinaryDecodingError(offset: phaseAt, reason: "unknown alert phase")
        }
        let since = try r.readVarInt()
        let lastTransitionAt = try r.readVarInt()
        let firstSeen = try r.readVarInt()
        var state = AlertSeriesState(group: group, now: firstSeen, flap: nil)
        state.phase = phase
        state.since = since
        state.lastTransitionAt = lastTransitionAt
        state.cause = try r.readString()
        let flagsAt = r.offset
        let flags = try r.readUInt8()
        guard flags & ~Layout.all == 0, flags & Layout.inputValue == 0 || flags & Layout.input != 0 else {
            throw BinaryDecodingError(offset: flagsAt, reason: "invalid alert state flags \(flags)")
        }
        if flags & Layout.value != 0 { state.value = try r.readDouble() }
        if flags & Layout.input != 0 {
            var value: Double?
            if flags & Layout.inputValue != 0 { value = try r.readDouble() }
            let samples = try r.readVarInt()
            state.input = (value, Int(truncatingIfNeeded: samples))
        }
        if flags & Layout.lastSampleAt != 0 { state.lastSampleAt = try r.readVarInt() }
        if flags & Layout.clearedAt != 0 { state.clearedAt = try r.readVarInt() }
        if flags & Layout.flap != 0 {
            let bits = try r.readVarUInt()
            let count = try r.readCount(limit: FlapDetection.maximumWindow)
            let isFlapping = try r.readBool()
            // The rule's own window: a history only exists for a rule with flap detection.
            if let settings = rule.flap {
                state.flap = FlapHistory(window: settings.window, bits: bits, count: count, isFlapping: isFlapping)
            }
        }
        return state
    }

    private static func phaseCode(_ phase: AlertPhase) -> UInt8 {
        switch phase {
        case .inactive: return 0
        case .pending: return 1
        case .firing: return 2
        case .resolved: return 3
        }
    }

    private static func decodePhase(_ code: UInt8) -> AlertPhase? {
        switch code {
        case 0: return .inactive
        case 1: return .pending
        case 2: return .firing
        case 3: return .resolved
        default: return nil
        }
    }
}
