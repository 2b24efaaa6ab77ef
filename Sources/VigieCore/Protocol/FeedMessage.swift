/// A feed message as a client decodes it (DESIGN.md, "Feed"): the typed counterpart of
/// what ``FeedEncoding`` and ``AlertFeedMessage`` write. `kpi` and `alert` objects are
/// also the entries of the `snapshot` and `alerts` control replies, without `seq` and
/// `epoch`.
///
/// Times stay RFC 3339 text as sent; `group` is an object, so its `group_by` order is
/// not kept (sort its keys to show it). A message of a `type` this version does not know
/// decodes as ``other(type:)``, so that a newer daemon's feed does not stop a client.
public enum FeedMessage: Equatable, Sendable {
    case kpi(KPI)
    case alert(Alert)
    case heartbeat(Heartbeat)
    /// A message of another `type`.
    case other(type: String)

    /// One KPI series' value: a `kpi.<kpi>` message, or an entry of a `snapshot` reply.
    public struct KPI: Codable, Equatable, Sendable {
        /// The KPI's name and title.
        public var kpi: String
        public var title: String
        /// The series' `group_by` tag values by tag (`{}` for an ungrouped KPI).
        public var group: [String: String]
        /// The aggregate over the window; nil when unknown (JSON `null`).
        public var value: Double?
        public var unit: String?
        /// `1h`, `today`, `week`…
        public var window: String
        /// `count`, `mean`, `p90`…
        public var aggregate: String
        /// Samples in the window (a ratio: the denominator's).
        public var samples: Int
        public var target: Double?
        public var direction: Direction
        public var status: KPIStatus
        /// The latest sample time ever applied to the series (RFC 3339), or nil.
        public var lastSample: String?
        /// When the value was computed (RFC 3339).
        public var ts: String
        /// The feed position: absent in a snapshot entry.
        public var seq: UInt64?
        /// The daemon run: absent in a snapshot entry.
        public var epoch: String?

        enum CodingKeys: String, CodingKey {
            case type, kpi, title, group, value, unit, window, aggregate, samples, target, direction, status
            case lastSample = "last_sample"
            case ts, seq, epoch
        }

        /// A value with every member given.
        public init(
            kpi: String,
            title: String,
            group: [String: String],
            value: Double?,
            unit: String?,
            window: String,
            aggregate: String,
            samples: Int,
            target: Double?,
            direction: Direction,
            status: KPIStatus,
            lastSample: String?,
            ts: String,
            seq: UInt64? = nil,
            epoch: String? = nil
        ) {
            self.kpi = kpi
            self.title = title
            self.group = group
            self.value = value
            self.unit = unit
            self.window = window
            self.aggregate = aggregate
            self.samples = samples
            self.target = target
            self.direction = direction
            self.status = status
            self.lastSample = lastSample
            self.ts = ts
            self.seq = seq
            self.epoch = epoch
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kpi = try c.decode(String.self, forKey: .kpi)
            title = try c.decode(String.self, forKey: .title)
            group = try c.decode([String: String].self, forKey: .group)
            value = try c.decodeIfPresent(Double.self, forKey: .value)
            unit = try c.decodeIfPresent(String.self, forKey: .unit)
            window = try c.decode(String.self, forKey: .window)
            aggregate = try c.decode(String.self, forKey: .aggregate)
            samples = try c.decode(Int.self, forKey: .samples)
            target = try c.decodeIfPresent(Double.self, forKey: .target)
            direction = try c.decode(Direction.self, forKey: .direction)
            status = try c.decode(KPIStatus.self, forKey: .status)
            lastSample = try c.decodeIfPresent(String.self, forKey: .lastSample)
            ts = try c.decode(String.self, forKey: .ts)
            seq = try c.decodeIfPresent(UInt64.self, forKey: .seq)
            epoch = try c.decodeIfPresent(String.self, forKey: .epoch)
        }

        /// Every member the daemon writes, `"type":"kpi"` and the `null`s included
        /// (`seq` and `epoch` only when set), so the object reads like a feed message.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode("kpi", forKey: .type)
            try c.encode(kpi, forKey: .kpi)
            try c.encode(title, forKey: .title)
            try c.encode(group, forKey: .group)
            try c.encode(value, forKey: .value)
            try c.encode(unit, forKey: .unit)
            try c.encode(window, forKey: .window)
            try c.encode(aggregate, forKey: .aggregate)
            try c.encode(samples, forKey: .samples)
            try c.encode(target, forKey: .target)
            try c.encode(direction, forKey: .direction)
            try c.encode(status, forKey: .status)
            try c.encode(lastSample, forKey: .lastSample)
            try c.encode(ts, forKey: .ts)
            try c.encodeIfPresent(seq, forKey: .seq)
            try c.encodeIfPresent(epoch, forKey: .epoch)
        }
    }

    /// An alert: an `alert.<rule>` message (a transition, or an acknowledgment or a
    /// silence republished), or an entry of the `alerts` and `snapshot` replies.
    public struct Alert: Codable, Equatable, Sendable {
        public var rule: String
        public var kpi: String
        /// The alert's `group_by` tag values by tag.
        public var group: [String: String]
        public var state: AlertState
        /// `info`, `warning` or `critical`.
        public var severity: String
        /// The KPI value that caused the transition, and the rule's threshold; nil for
        /// a deadman rule.
        public var value: Double?
        public var threshold: Double?
        /// When the current state began (RFC 3339).
        public var since: String
        public var message: String
        /// `threshold`, `cleared`, `absent`, `sample`, `flapping`, `schedule`, `active`.
        public var reason: String
        public var flapping: Bool
        public var acknowledged: Bool
        public var acknowledgedBy: String?
        public var ackComment: String?
        public var silenced: Bool
        public var silenceID: String?
        /// When the silence that covers it ends (RFC 3339).
        public var silencedUntil: String?
        /// When the message was made (RFC 3339).
        public var ts: String
        /// The feed position and daemon run: absent in a control reply's entry.
        public var seq: UInt64?
        public var epoch: String?

        enum CodingKeys: String, CodingKey {
            case rule, kpi, group, state, severity, value, threshold, since, message, reason, flapping
            case acknowledged
            case acknowledgedBy = "acknowledged_by"
            case ackComment = "ack_comment"
            case silenced
            case silenceID = "silence_id"
            case silencedUntil = "silenced_until"
            case ts, seq, epoch
        }
    }

    /// The `hb` message.
    public struct Heartbeat: Codable, Equatable, Sendable {
        /// RFC 3339.
        public var ts: String
        /// Seconds since the daemon started.
        public var uptimeSeconds: Double
        /// Accepted samples per second over the last interval.
        public var ingestRate: Double
        public var seq: UInt64
        public var epoch: String

        enum CodingKeys: String, CodingKey {
            case ts
            case uptimeSeconds = "uptime_s"
            case ingestRate = "ingest_rate"
            case seq, epoch
        }
    }

    /// The message's `seq` (nil for ``other(type:)`` and snapshot entries).
    public var seq: UInt64? {
        switch self {
        case .kpi(let m): m.seq
        case .alert(let m): m.seq
        case .heartbeat(let m): m.seq
        case .other: nil
        }
    }

    /// The message's `epoch` (nil for ``other(type:)`` and snapshot entries).
    public var epoch: String? {
        switch self {
        case .kpi(let m): m.epoch
        case .alert(let m): m.epoch
        case .heartbeat(let m): m.epoch
        case .other: nil
        }
    }
}

extension FeedMessage: Decodable {
    private enum TypeKey: String, CodingKey {
        case type
    }

    /// Reads `type`, then the members of that kind.
    public init(from decoder: any Decoder) throws {
        let type = try decoder.container(keyedBy: TypeKey.self).decode(String.self, forKey: .type)
        switch type {
        case "kpi": self = .kpi(try KPI(from: decoder))
        case "alert": self = .alert(try Alert(from: decoder))
        case "hb": self = .heartbeat(try Heartbeat(from: decoder))
        default: self = .other(type: type)
        }
    }

    /// Decodes a feed body; the error names what is missing or wrong.
    public static func decode(_ bytes: [UInt8]) -> Result<FeedMessage, ControlReplyError> {
        ControlReply.decodeMembers(FeedMessage.self, from: bytes)
    }
}

// The wire words of these enums are their raw values.
extension Direction: Codable {}
extension KPIStatus: Codable {}
extension AlertState: Codable {}
