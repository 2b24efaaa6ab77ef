extension ControlReply {
    /// `history`: a KPI's aggregate per step, every step of every matching series, in
    /// time order, series after series.
    public struct History: Codable, Equatable, Sendable {
        public var kpi: String
        public var unit: String?
        public var aggregate: String
        /// The step used, in seconds (rounded up to whole hours on hour rows).
        public var stepSeconds: Int64
        /// `minute` or `hour`: the rows the values were computed from.
        public var resolution: String
        /// The range covered, aligned to the step (RFC 3339).
        public var from: String
        public var to: String
        public var points: [Point]

        /// One step of one series.
        public struct Point: Codable, Equatable, Sendable {
            /// Start of the step (RFC 3339).
            public var ts: String
            /// The series' `group_by` tag values by tag.
            public var group: [String: String]
            /// nil for a step without data.
            public var value: Double?
            public var samples: Int
        }

        enum CodingKeys: String, CodingKey {
            case kpi, unit, aggregate
            case stepSeconds = "step_s"
            case resolution, from, to, points
        }
    }

    /// `events`: alert transitions and operator actions kept in history, oldest first.
    public struct Events: Codable, Equatable, Sendable {
        public var events: [Event]

        /// One event; which members are set depends on `kind` (``HistoryEvent``).
        public struct Event: Codable, Equatable, Sendable {
            /// The store's row id.
            public var id: Int64?
            /// RFC 3339.
            public var ts: String
            public var kind: HistoryEventKind
            public var rule: String?
            public var kpi: String?
            /// The alert's group tag values by tag (`{}` when not about one series).
            public var group: [String: String]
            /// The alert's state after a transition.
            public var state: AlertState?
            public var severity: String?
            public var value: Double?
            public var threshold: Double?
            /// Who acted (acks, silences).
            public var actor: String?
            public var comment: String?
            /// Anything else: an object (a transition's `message`, `reason`…; a silence's
            /// id, matchers and end).
            public var payload: JSONValue?
        }
    }
}

extension HistoryEventKind: Codable {}
