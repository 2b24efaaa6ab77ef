import CFuzzer
import Foundation

// libFuzzer's driver, entered from Swift's own main: SwiftPM links an executable to its
// Swift entry point, so libFuzzer's main is never used.
//
// TOMLKit leaks on every parse (suppressed in CFuzzer.c), so libFuzzer's leak check
// would run after every input and take most of the time: it is off unless the command
// line asks for it (-detect_leaks=1).
var arguments = CommandLine.arguments
if !arguments.contains(where: { $0.hasPrefix("-detect_leaks=") }) { arguments.append("-detect_leaks=0") }
var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
var argc = CInt(arguments.count)
let status = cArguments.withUnsafeMutableBufferPointer { buffer in
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        guard let data else { return 0 }
        FuzzConfig.run(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
}
exit(status)
