import Foundation

/// The replies of the control protocol (docs/protocol.md, "Control"), typed for clients:
/// the counterpart of ``ControlRequest``. The daemon writes them with ``JSONWriter``; a
/// client reads one with ``decode(_:from:)``, which checks `ok` first.
///
/// Each reply type holds the members after `ok`, with their wire names in `CodingKeys`.
/// A member the daemon may write as `null` is optional (and may then be absent too).
/// Times stay RFC 3339 text as sent. Encoding a reply writes its members without `ok`.
public enum ControlReply {
    /// Decodes `bytes` as a reply of type `Reply`: `ok:false` gives the daemon's error
    /// (``ControlReplyError/refused(_:)``); bytes that are not such a reply give an error
    /// that names the member missing or wrong.
    public static func decode<Reply: Decodable>(
        _ type: Reply.Type,
        from bytes: [UInt8]
    ) -> Result<Reply, ControlReplyError> {
        decodeMembers(Status.self, from: bytes).flatMap { status in
            guard status.ok else {
                return decodeMembers(Failure.self, from: bytes).flatMap { .failure(.refused($0)) }
            }
            return decodeMembers(Reply.self, from: bytes)
        }
    }

    /// Decodes `bytes` as `Value`, without looking at `ok` (feed messages have none).
    static func decodeMembers<Value: Decodable>(
        _ type: Value.Type,
        from bytes: [UInt8]
    ) -> Result<Value, ControlReplyError> {
        do {
            return .success(try JSONDecoder().decode(Value.self, from: Data(bytes)))
        } catch let error as DecodingError {
            return .failure(ControlReplyError(error))
        } catch {
            return .failure(.notJSONObject)
        }
    }

    /// What every reply starts with.
    private struct Status: Decodable {
        var ok: Bool
    }

    /// `{"ok":false,"error":"…"}`: why the request was refused. A `reload` of a file
    /// with errors lists every one in `errors`.
    public struct Failure: Error, Codable, Equatable, Sendable, CustomStringConvertible {
        /// The daemon's message, to show as is.
        public var error: String
        /// Every error of a configuration file a `reload` refused.
        public var errors: [String]?

        public init(error: String, errors: [String]? = nil) {
            self.error = error
            self.errors = errors
        }

        public var description: String { error }
    }

    /// `snapshot`: every current KPI value and active alert, consistent with feed
    /// position `seq` of run `epoch` (Clone pattern).
    public struct Snapshot: Codable, Equatable, Sendable {
        public var seq: UInt64
        public var epoch: String
        /// When the snapshot was taken (RFC 3339).
        public var ts: String
        public var kpis: [FeedMessage.KPI]
        public var alerts: [FeedMessage.Alert]
    }

    /// `alerts`: the active alerts (`reason` `active`) and the silences in force.
    public struct Alerts: Codable, Equatable, Sendable {
        public var alerts: [FeedMessage.Alert]
        public var silences: [Silence]
    }

    /// A silence, as `alerts` lists it and `silence` returns it.
    public struct Silence: Codable, Equatable, Sendable {
        /// `s-1`…
        public var id: String
        /// `key=value`, a value ending in `*` matching a prefix.
        public var matchers: [String]
        /// RFC 3339.
        public var startsAt: String
        public var endsAt: String
        public var createdBy: String
        public var comment: String

        enum CodingKeys: String, CodingKey {
            case id, matchers
            case startsAt = "starts_at"
            case endsAt = "ends_at"
            case createdBy = "created_by"
            case comment
        }
    }

    /// `ack`: how many active alerts the acknowledgment covers.
    public struct Acknowledged: Codable, Equatable, Sendable {
        public var acknowledged: Int
    }

    /// `silence`: the silence made.
    public struct Silenced: Codable, Equatable, Sendable {
        public var silence: Silence
    }

    /// `unsilence`: the silence removed.
    public struct Unsilenced: Codable, Equatable, Sendable {
        public var id: String
    }

    /// `health`: what makes the daemon unhealthy, if anything.
    public struct Health: Codable, Equatable, Sendable {
        public var healthy: Bool
        public var problems: [String]
    }

    /// `reload` of a file that was accepted: what changed. (A refused file is a
    /// ``Failure`` listing its `errors`.)
    public struct Reload: Codable, Equatable, Sendable {
        /// The configuration file re-read.
        public var file: String
        public var kpis: KPIChanges
        /// Alert rules now configured.
        public var rules: Int
        public var notifiersReplaced: Bool
        /// Endpoints bound or closed, one line each.
        public var endpoints: [String]
        /// Sections changed in the file that take effect at the next restart.
        public var needsRestart: [String]

        /// KPI names by what the reload did with them.
        public struct KPIChanges: Codable, Equatable, Sendable {
            /// Unchanged: windows and alert states carried over.
            public var kept: [String]
            /// Changed: started empty.
            public var restarted: [String]
            public var added: [String]
            public var removed: [String]
        }

        enum CodingKeys: String, CodingKey {
            case file, kpis, rules
            case notifiersReplaced = "notifiers_replaced"
            case endpoints
            case needsRestart = "needs_restart"
        }
    }
}
