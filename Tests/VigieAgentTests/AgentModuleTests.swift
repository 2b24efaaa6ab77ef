import Testing
import VigieAgent

@Suite struct AgentModuleTests {
    @Test func spoolFormatVersionIsOne() {
        #expect(VigieAgentModule.spoolVersion == 1)
    }
}
