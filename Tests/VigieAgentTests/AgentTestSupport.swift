import Foundation
import Logging
import VigieAgent
import VigieConfig
import VigieTesting
import ZeroMQ

/// A fresh temporary directory for one test.
func temporaryDirectory(_ name: String) -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-agent-\(name)-\(UUID().uuidString)")
        .path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A quiet logger for tests.
func testLogger() -> Logger {
    var logger = Logger(label: "vigie-agent-test")
    logger.logLevel = .critical
    return logger
}

/// An agent configuration on loopback wildcard ports, spooling in `directory`.
func agentConfiguration(
    directory: String,
    upstream: String,
    maxBytes: Int64 = 64 << 20,
    segmentBytes: Int = 1 << 20,
    tags: [AgentConfiguration.TagDefault] = []
) -> AgentConfiguration {
    AgentConfiguration(
        name: "test",
        producerID: "agent-test-\(UUID().uuidString.prefix(8))",
        upstream: upstream,
        window: 16,
        ackTimeout: 1_000_000_000,
        backoffInitial: 50_000_000,
        backoffMax: 300_000_000,
        tags: tags,
        spool: AgentSpoolConfiguration(
            directory: directory,
            maxBytes: maxBytes,
            segmentBytes: segmentBytes,
            fsync: .batch,
            fsyncInterval: 2_000_000
        ),
        listen: AgentListenConfiguration(
            ingest: ["tcp://127.0.0.1:*"],
            push: ["tcp://127.0.0.1:*"],
            control: ["tcp://127.0.0.1:*"]
        )
    )
}

/// A free loopback TCP endpoint (bound then released).
func freeEndpoint(_ context: ZMQContext) throws -> String {
    let socket = try context.makeSocket(.router)
    try socket.bind("tcp://127.0.0.1:*")
    let endpoint = try socket.lastEndpoint
    socket.close(linger: 0)
    return endpoint
}

/// A one-shot script: pushes one batch to the agent and waits for its ACK.
/// Returns the decoded reply and how long it took, in ms.
func pushThroughAgent(
    _ context: ZMQContext,
    endpoint: String,
    lines: String,
    producer: String = "script-\(UUID().uuidString.prefix(8))"
) throws -> (reply: IngestReplyFrames?, milliseconds: Double) {
    let socket = try context.makeSocket(.dealer)
    defer { socket.close(linger: 0) }
    try socket.connect(endpoint)
    let start = DispatchTime.now().uptimeNanoseconds
    try socket.sendPush(producer: producer, sequence: "1", payloads: [lines])
    let frames = try socket.receiveMultipart(timeoutMilliseconds: 5_000)
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    return (frames.flatMap { IngestReplyFrames($0) }, elapsed)
}

/// The daemon's `samples_accepted` counter.
func samplesAccepted(_ daemon: DaemonHarness) -> Int {
    ((try? daemon.control(#"{"op":"stats"}"#))?["samples_accepted"] as? Int) ?? -1
}

/// Sends `{"op":"status"}` to the agent's control endpoint.
func agentStatus(_ context: ZMQContext, endpoint: String) throws -> [String: Any] {
    let socket = try context.makeSocket(.dealer)
    defer { socket.close(linger: 0) }
    try socket.connect(endpoint)
    try socket.sendMultipart([[], Array(#"{"op":"status"}"#.utf8)])
    guard let frames = try socket.receiveMultipart(timeoutMilliseconds: 3_000), let body = frames.last,
        let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
    else { throw HarnessError("no status reply") }
    return object
}

/// `count` lines of `measurement` with distinct values.
func sampleLines(_ count: Int, measurement: String = "guichet_attente", offset: Int = 0) -> String {
    (0..<count).map { "\(measurement),service=etat-civil value=\($0 + offset)" }.joined(separator: "\n") + "\n"
}

let countKPIs = """
    [[kpi]]
    name = "attente.count"
    metric = "guichet_attente"
    aggregate = "count"
    window = "1h"

    [[kpi]]
    name = "attente.by_site"
    metric = "guichet_attente"
    aggregate = "count"
    group_by = ["site"]
    window = "1h"

    [[kpi]]
    name = "agent.dropped"
    metric = "vigie_agent_dropped"
    field = "samples"
    aggregate = "max"
    window = "1h"

    """

/// The value of KPI `name` in the daemon's snapshot (summed over groups), if any.
func kpiValue(_ daemon: DaemonHarness, _ name: String) -> Double? {
    guard let snapshot = try? daemon.control(#"{"op":"snapshot"}"#),
        let kpis = snapshot["kpis"] as? [[String: Any]]
    else { return nil }
    let values = kpis.filter { $0["kpi"] as? String == name }.compactMap { $0["value"] as? Double }
    return values.isEmpty ? nil : values.reduce(0, +)
}

/// The values of KPI `name` by its `site` group.
func kpiGroups(_ daemon: DaemonHarness, _ name: String) -> [String: Double] {
    guard let snapshot = try? daemon.control(#"{"op":"snapshot"}"#),
        let kpis = snapshot["kpis"] as? [[String: Any]]
    else { return [:] }
    var groups: [String: Double] = [:]
    for kpi in kpis where kpi["kpi"] as? String == name {
        if let site = (kpi["group"] as? [String: String])?["site"], let value = kpi["value"] as? Double {
            groups[site] = value
        }
    }
    return groups
}
