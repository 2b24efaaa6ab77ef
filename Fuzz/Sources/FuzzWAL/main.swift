import CFuzzer
import Foundation
import FuzzSupport

// libFuzzer's driver, entered from Swift's own main: SwiftPM links an executable to its
// Swift entry point, so libFuzzer's main is never used. VIGIE_FUZZ_WRITE_SEEDS=DIR writes
// the generated seeds to DIR instead.
if let seeds = Scratch.seedDirectory {
    FuzzWAL.writeSeeds(to: seeds)
    exit(0)
}
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(
    LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        guard let data else { return 0 }
        FuzzWAL.run(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
)
