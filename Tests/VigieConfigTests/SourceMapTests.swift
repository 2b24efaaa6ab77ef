import Testing

@testable import VigieConfig
@testable import VigieCore

@Suite("Source map")
struct SourceMapTests {
    func line(_ map: SourceMap, _ keys: [String], index: (after: String, value: Int)? = nil) -> Int? {
        var path = ConfigPath()
        for key in keys {
            path = path.appending(key)
            if let index, index.after == key { path = path.appending(index: index.value) }
        }
        return map.exactLocation(of: path)?.line
    }

    @Test func tablesArraysAndKeys() {
        let map = SourceMap(
            text: """
                # comment with = sign and [brackets]
                top = 1
                [daemon]
                timezone = "UTC"   # trailing
                [[kpi]]
                name = "a"
                where = { service = "x", nested = { deep = 'y' } }
                [[kpi]]
                name = "b"
                group_by = [
                  "site",   # comment inside an array
                  "service",
                ]
                title = \"\"\"
                multi = line
                [not a table]
                \"\"\"
                numerator.metric = "m"
                "quoted key" = 2
                [kpi.denominator]
                metric = "d"
                """
        )
        #expect(line(map, ["top"]) == 2)
        #expect(line(map, ["daemon"]) == 3)
        #expect(line(map, ["daemon", "timezone"]) == 4)
        #expect(line(map, ["kpi"], index: ("kpi", 0)) == 5)
        #expect(line(map, ["kpi", "name"], index: ("kpi", 0)) == 6)
        #expect(line(map, ["kpi", "where", "service"], index: ("kpi", 0)) == 7)
        #expect(line(map, ["kpi", "where", "nested", "deep"], index: ("kpi", 0)) == 7)
        #expect(line(map, ["kpi", "name"], index: ("kpi", 1)) == 9)
        #expect(line(map, ["kpi", "group_by"], index: ("kpi", 1)) == 10)
        #expect(
            map.exactLocation(
                of: ConfigPath().appending("kpi").appending(index: 1).appending("group_by").appending(index: 1)
            )?.line == 12
        )
        #expect(line(map, ["kpi", "title"], index: ("kpi", 1)) == 14)
        #expect(line(map, ["not a table"]) == nil)
        #expect(line(map, ["kpi", "numerator", "metric"], index: ("kpi", 1)) == 18)
        #expect(line(map, ["kpi", "quoted key"], index: ("kpi", 1)) == 19)
        #expect(line(map, ["kpi", "denominator", "metric"], index: ("kpi", 1)) == 21)
    }

    @Test func missingKeyFallsBackToItsTable() {
        let map = SourceMap(text: "\n\n[[kpi]]\nname = \"a\"\n")
        let path = ConfigPath().appending("kpi").appending(index: 0).appending("window")
        #expect(map.exactLocation(of: path) == nil)
        #expect(map.location(of: path)?.line == 3)
        #expect(map.location(of: ConfigPath().appending("nothing")) == nil)
    }

    @Test func neverFailsOnGarbage() {
        for text in ["[", "[[", "a = {", "a = [1, ", "a = \"\"\"", "= = =", "\u{FEFF}a = 1", "a.b.", "x = 'y"] {
            _ = SourceMap(text: text)
        }
        #expect(SourceMap(text: "\u{FEFF}a = 1").exactLocation(of: ConfigPath().appending("a"))?.column == 1)
    }
}

@Suite("Suggestions")
struct SuggestionsTests {
    @Test(arguments: [
        ("agregate", "aggregate"), ("windw", "window"), ("group-by", "group_by"), ("groupBy", "group_by"),
        ("Metric", "metric"), ("measurement", "metric"), ("tittle", "title"), ("fenêtre", "window"),
    ])
    func closest(_ typo: String, _ expected: String) {
        #expect(Suggestions.closest(to: typo, among: ConfigLoader.kpiKeys) == expected)
    }

    @Test func farWordsGetNoSuggestion() {
        #expect(Suggestions.closest(to: "colour", among: ConfigLoader.kpiKeys) == nil)
        #expect(Suggestions.hint(for: "colour", among: ["a", "b"]) == "allowed: a, b")
    }

    @Test func editDistance() {
        #expect(Suggestions.editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(Suggestions.editDistance(Array(""), Array("abc")) == 3)
        #expect(Suggestions.editDistance(Array("same"), Array("same")) == 0)
        #expect(Suggestions.editDistance(Array("ratoi"), Array("ratio")) == 1)
        #expect(Suggestions.editDistance(Array("ca"), Array("abc")) == 3)
    }
}
