// Declarations only: LLVMFuzzerRunDriver comes from libFuzzer (-sanitize=fuzzer).
#include "CFuzzer.h"

// LeakSanitizer's built-in suppressions, read when a fuzz target starts: leaks of
// dependencies, not of Vigie, which would otherwise stop a target at its first input.
// - TOMLKit leaks on every parse (its C++ bridge hands Swift malloc'd strings and key
//   arrays it never frees; `TOMLTable(string:)` never frees its error buffer).
// - Foundation's `FileManager.contents(atPath:)` leaks its 4 KiB read buffer when the
//   file is empty (`readBytesFromFile`).
// Leaks allocated anywhere else are still reported.
const char *__lsan_default_suppressions(void) {
    return "leak:TOMLKit/Sources/\n"
           "leak:readBytesFromFile\n";
}
