import Foundation
import Testing
import VigieTesting

/// `tcp://[::1]:…` endpoints, which config validation accepts and docs/protocol.md shows:
/// libzmq refuses them unless ZMQ_IPV6 is set, which the ZeroMQ module now does for any
/// IPv6 endpoint, on both sides.
@Suite("IPv6 endpoints (real vigied and vigie)")
struct IPv6EndpointTests {
    /// Whether this host has an IPv6 loopback (some containers do not).
    static let hasIPv6Loopback: Bool = {
        guard let text = try? String(contentsOfFile: "/proc/net/if_inet6", encoding: .utf8) else { return false }
        return text.split(separator: "\n").contains { $0.hasPrefix("00000000000000000000000000000001") }
    }()

    @Test(.enabled(if: hasIPv6Loopback, "no ::1 on this host"))
    func ingestFeedAndControlOnIPv6Loopback() throws {
        let daemon = try DaemonProcess(
            kpis: """
                [[kpi]]
                name = "six.count"
                metric = "six"
                aggregate = "count"
                window = "1h"
                """,
            endpoints: ["ingest": "tcp://[::1]:*", "feed": "tcp://[::1]:*", "control": "tcp://[::1]:*"]
        )
        let ingest = try #require(daemon.endpoints["ingest"])
        #expect(ingest.hasPrefix("tcp://[::1]:"), "\(ingest)")
        let push = try BinaryRunner.run("vigie", arguments: ["push", "six", "1"] + daemon.endpointArguments)
        #expect(push.status == 0, "\(push.stderr)")
        #expect(push.stdout.contains("accepted 1"), "\(push.stdout)")
        let tcpControl = try #require(daemon.endpointLists["control"]?.last)
        #expect(tcpControl.hasPrefix("tcp://[::1]:"), "\(tcpControl)")
        let status = try BinaryRunner.run("vigie", arguments: ["status", "--json", "--control", tcpControl])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("six.count"), "\(status.stdout)")
        #expect(daemon.stop().status == 0)
    }
}
