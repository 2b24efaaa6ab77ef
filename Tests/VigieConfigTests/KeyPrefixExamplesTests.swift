import Foundation
import Testing
import VigieConfig

/// The metric prefixes shown for `vigie keygen --prefixes` in the documentation are
/// real: the daemon matches them against measurement names, so each must start at least
/// one measurement that a KPI of config/vigie.toml reads.
@Suite("Key prefix examples")
struct KeyPrefixExamplesTests {
    static let root = repositoryConfigDirectory.deletingLastPathComponent()

    /// The measurements config/vigie.toml's KPIs read: `metric`, and the denominator's
    /// (a ratio's numerator is its `metric`).
    static func measurements() throws -> Set<String> {
        let config = try ConfigLoader.load(path: repositoryConfigDirectory.appendingPathComponent("vigie.toml").path)
        return Set(config.kpis.flatMap { [$0.selector.metric] + ($0.denominator.map { [$0.metric] } ?? []) })
    }

    /// Every prefix list in `text`: `--prefixes a,b`, `prefixes = "a,b"` and the daemon's
    /// refusal `this key's prefixes (a, b)`.
    static func prefixLists(in text: String) throws -> [[String]] {
        let patterns = [
            #"--prefixes[ =]([^\s`"']+)"#,
            #"prefixes = \\?"([^"\\]*)\\?""#,
            #"this key's prefixes \(([^)]*)\)"#,
            #"prefixes = \[([^\]]*)\]"#,
        ]
        var lists: [[String]] = []
        for pattern in patterns {
            let regex = try NSRegularExpression(pattern: pattern)
            let range = NSRange(text.startIndex..., in: text)
            for match in regex.matches(in: text, range: range) {
                guard let group = Range(match.range(at: 1), in: text) else { continue }
                lists.append(
                    text[group].split(separator: ",").map {
                        $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"\\"))
                    }
                    .filter { !$0.isEmpty }
                )
            }
        }
        return lists
    }

    @Test func parsesEveryForm() throws {
        let text = """
            vigie keygen a --prefixes guichet_,appels
            A key may carry prefixes (`prefixes = "x_, y"`): `metric "z" is outside this key's prefixes (x_, y)`
            mairie-nord = { prefixes = ["guichet_", "appels"] }
            """
        #expect(
            try Self.prefixLists(in: text) == [
                ["guichet_", "appels"], ["x_", "y"], ["x_", "y"], ["guichet_", "appels"],
            ]
        )
    }

    @Test(arguments: ["README.md", "SECURITY.md", "Sources/VigieCLI/KeygenCommand.swift"])
    func everyDocumentedPrefixStartsAMeasurementOfTheExampleConfig(file: String) throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent(file), encoding: .utf8)
        let lists = try Self.prefixLists(in: text)
        #expect(!lists.isEmpty, "\(file) shows no --prefixes example any more: update this test")
        let measurements = try Self.measurements()
        for prefix in lists.joined() {
            #expect(
                measurements.contains { $0.hasPrefix(prefix) },
                "\(file): prefix \"\(prefix)\" starts no measurement of config/vigie.toml (\(measurements.sorted()))"
            )
        }
    }
}
