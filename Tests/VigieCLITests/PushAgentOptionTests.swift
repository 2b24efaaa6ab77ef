import ArgumentParser
import Foundation
import Testing

@testable import VigieCLI

@Suite("vigie push --agent options")
struct PushAgentOptionTests {
    @Test func localMeansTheIpcSocketElseLoopbackTCP() {
        let socketPath = String(PushCommand.defaultAgentEndpoint.dropFirst("ipc://".count))
        let expected =
            FileManager.default.fileExists(atPath: socketPath)
            ? PushCommand.defaultAgentEndpoint : PushCommand.fallbackAgentEndpoint
        #expect(PushCommand.agentEndpoint("local") == expected)
        #expect(PushCommand.defaultAgentEndpoint == "ipc:///run/vigie-agent/ingest.sock")
        #expect(PushCommand.fallbackAgentEndpoint == "tcp://127.0.0.1:7700")
    }

    @Test func explicitEndpointsAreMadeConnectable() {
        #expect(PushCommand.agentEndpoint("tcp://*:7700") == "tcp://127.0.0.1:7700")
        #expect(PushCommand.agentEndpoint("ipc:///tmp/a.sock") == "ipc:///tmp/a.sock")
    }

    @Test func parsesAgentAndSpoolFlags() throws {
        let command = try PushCommand.parse(["m", "1", "--agent", "local", "--spool-to-agent"])
        #expect(command.agent == "local")
        #expect(command.spoolToAgent)
        let plain = try PushCommand.parse(["m", "1"])
        #expect(plain.agent == nil)
        #expect(!plain.spoolToAgent)
    }
}
