/// The checkpoint payload of the daemon's engine state, the one codec `vigied` (its
/// `StateKeeper`, and each reload) and the fuzz harness use.
///
/// **Format** (version 1): `format` (1 byte), the time it was encoded (Int64), the
/// feed's last sequence number (UInt64), then four length-prefixed sections: the KPI
/// engine's windows, the alert evaluator's states, the operator actions (acks and
/// silences), the producers' anti-replay windows. An empty alert or action section is
/// left as it is on restore.
public enum EngineCheckpoint {
    public static let format: UInt8 = 1

    /// What ``restore(_:engine:evaluator:actions:producerLimits:now:)`` brought back
    /// besides what it restored in place.
    public struct Restored {
        public var producers: ProducerTable
        public var feedSequence: UInt64
        /// KPIs and window groups left empty (their definition changed).
        public var engine: EngineRestoreReport
        /// Alert rules whose states were dropped (rule changed or removed); nil when the
        /// checkpoint held no alert section.
        public var alerts: AlertRestoreReport?
    }

    /// Encodes the state as of `now`.
    public static func encode(
        now: Int64,
        feedSequence: UInt64,
        engine: KPIEngine,
        evaluator: AlertEvaluator,
        actions: InMemoryOperatorActionStore?,
        producers: ProducerTable
    ) -> [UInt8] {
        var out = BinaryWriter(capacity: 1 << 16)
        out.writeUInt8(format)
        out.writeInt64(now)
        out.writeUInt64(feedSequence)
        var section = BinaryWriter(capacity: 1 << 16)
        engine.encodeState(into: &section)
        out.writeBytes(section.bytes)
        section.removeAll()
        evaluator.encodeState(into: &section)
        out.writeBytes(section.bytes)
        section.removeAll()
        actions?.encodeState(into: &section)
        out.writeBytes(section.bytes)
        section.removeAll()
        producers.encodeState(into: &section)
        out.writeBytes(section.bytes)
        return out.bytes
    }

    /// Restores `payload` into `engine`, `evaluator` and `actions` (fresh ones: on a
    /// throw they may be half-restored, and the caller starts again from fresh ones) and
    /// returns the producers table and feed sequence it held. Throws
    /// `BinaryDecodingError` on anything it cannot decode.
    public static func restore(
        _ payload: [UInt8],
        engine: KPIEngine,
        evaluator: AlertEvaluator,
        actions: InMemoryOperatorActionStore?,
        producerLimits: ProducerTable.Limits,
        now: Int64
    ) throws -> Restored {
        try payload.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            let version = try reader.readUInt8()
            guard version == format else {
                throw BinaryDecodingError(offset: 0, reason: "unknown checkpoint payload format \(version)")
            }
            _ = try reader.readInt64()
            let feedSequence = try reader.readUInt64()
            var engineSection = BinaryReader(try reader.readBytes())
            let alertSection = try reader.readBytes()
            let actionSection = try reader.readBytes()
            var producerSection = BinaryReader(try reader.readBytes())
            let producers = try ProducerTable(limits: producerLimits, restoringStateFrom: &producerSection, now: now)
            let engineReport = try engine.restoreState(from: &engineSection)
            var alertReport: AlertRestoreReport?
            if !alertSection.isEmpty {
                var r = BinaryReader(alertSection)
                alertReport = try evaluator.restoreState(from: &r)
            }
            if !actionSection.isEmpty, let actions {
                var r = BinaryReader(actionSection)
                try actions.restoreState(from: &r)
            }
            return Restored(
                producers: producers,
                feedSequence: feedSequence,
                engine: engineReport,
                alerts: alertReport
            )
        }
    }
}
