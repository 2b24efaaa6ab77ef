import Testing
import VigieCore

/// Text from outside shown to a person never carries a live control sequence.
@Suite struct DisplayTextTests {
    @Test(arguments: [
        ("nord", "nord"),
        ("état civil — 20 min", "état civil — 20 min"),
        ("a\u{1B}]52;c;aGVsbG8=\u{07}b", "a\\x1B]52;c;aGVsbG8=\\x07b"),
        ("\u{1B}[2J", "\\x1B[2J"),
        ("ligne\nforgée", "ligne\\nforgée"),
        ("a\rb\tc\u{0}", "a\\rb\\tc\\x00"),
        ("\u{7F}\u{9B}31m", "\\x7F\\u{9B}31m"),
        ("abc\u{202E}fdp.exe", "abc\\u{202E}fdp.exe"),
    ])
    func controlCharactersAreEscaped(input: String, shown: String) {
        #expect(DisplayText.escaped(input) == shown)
        #expect(!DisplayText.escaped(input).unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
    }
}
