/// The endpoints a daemon actually bound, with wildcard ports resolved
/// (`tcp://127.0.0.1:*` → `tcp://127.0.0.1:41234`).
public struct BoundEndpoints: Sendable, Equatable {
    public var ingest: [String] = []
    public var push: [String] = []
    public var feed: [String] = []
    public var control: [String] = []
    /// The `/metrics` listener as bound (`host:port`), if `[http] listen` is set.
    public var http: String?

    public init() {}

    /// `ingest=… push=… feed=… control=…`, as logged and printed at start.
    public var summary: String {
        "ingest=\(ingest.joined(separator: ",")) push=\(push.joined(separator: ",")) "
            + "feed=\(feed.joined(separator: ",")) control=\(control.joined(separator: ","))"
            + (http.map { " http=\($0)" } ?? "")
    }
}
