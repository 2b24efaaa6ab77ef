import CFuzzer
import Foundation

// libFuzzer's driver, entered from Swift's own main: SwiftPM links an executable to its
// Swift entry point, so libFuzzer's main is never used.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(
    LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        guard let data else { return 0 }
        FuzzCSV.run(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
)
