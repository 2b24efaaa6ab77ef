import VigieCore

extension ConfigLoader {
    static let kpiKeys = [
        "name", "title", "metric", "field", "where", "group_by", "aggregate", "quantile", "per", "below",
        "above", "numerator", "denominator", "window", "unit", "target", "direction", "min_samples",
        "lateness", "buckets", "max_series",
    ]
    static let aggregateNames = [
        "count", "sum", "mean", "min", "max", "last", "rate", "p50", "p90", "p95", "p99", "quantile", "share",
        "ratio",
    ]
    static let selectorKeys = ["metric", "field", "where"]
    static let windowExample = "window = \"1h\" (sliding) or \"today\", \"week\", \"month\""

    /// Characters allowed in a KPI name (it becomes the feed topic `kpi.<name>`).
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy { scalar in
                switch scalar {
                case "A"..."Z", "a"..."z", "0"..."9", "_", ".", ":", "-": return true
                default: return false
                }
            }
    }

    static func readKPIs(_ root: TableReader, defaultMaxSeries: Int) -> [KPIDefinition] {
        readArrayOfTables(
            root,
            "kpi",
            above: "KPI",
            example: "[[kpi]] above each KPI",
            element: "KPI as a [[kpi]] table"
        ) { reader, firstLines in
            readKPI(reader, defaultMaxSeries: defaultMaxSeries, firstLines: &firstLines)
        }
    }

    /// One `[[kpi]]` table, or `nil` when it has problems (all of them reported).
    static func readKPI(
        _ unnamed: TableReader,
        defaultMaxSeries: Int,
        firstLines: inout [String: Int?]
    ) -> KPIDefinition? {
        let diagnostics = unnamed.diagnostics
        let errorsBefore = diagnostics.errors.count

        // Name first: it labels every other message about this KPI.
        let (name, table) = readTableName(
            unnamed,
            label: "kpi",
            noun: "KPI",
            known: kpiKeys,
            missingHint: "add name = \"service.indicateur\" ([A-Za-z0-9_.:-])",
            example: "name = \"etat_civil.attente_p90\"",
            validExample: "etat_civil.attente_p90",
            firstLines: &firstLines
        )

        table.rejectUnknownKeys(kpiKeys, context: "a [[kpi]] table")
        let title = table.nonEmptyString("title", example: "title = \"Attente au guichet (p90)\"")

        let aggregate = readAggregate(table)
        var selector: SampleSelector?
        var denominator: SampleSelector?
        if aggregate == .ratio {
            for key in selectorKeys where table.contains(key) {
                table.report(
                    key,
                    "a ratio KPI takes \(key) from numerator and denominator",
                    hint: "move it into both: numerator = { metric = \"…\", field = \"…\" }"
                )
            }
            selector = readSelectorTable(table, key: "numerator")
            denominator = readSelectorTable(table, key: "denominator")
        } else if aggregate == nil, table.contains("numerator") || table.contains("denominator") {
            // A ratio whose aggregate is misspelt (already reported): do not pile on about `metric`.
        } else {
            selector = readSelector(table, inlineExample: nil)
            for key in ["numerator", "denominator"] where table.contains(key) {
                table.report(
                    key,
                    "\(key) only applies to aggregate \"ratio\"",
                    hint: "remove it, or set aggregate = \"ratio\""
                )
            }
        }

        var groupBy: [String] = []
        if let tags = table.stringArray("group_by", example: "group_by = [\"site\"]") {
            var seen = Set<String>()
            for (index, tag) in tags.enumerated() {
                let place = table.scope.child("group_by").element(index)
                if tag.isEmpty {
                    diagnostics.report(at: place.path, key: place.displayKey, "tag name must not be empty")
                } else if !seen.insert(tag).inserted {
                    diagnostics.report(
                        at: place.path,
                        key: place.displayKey,
                        "tag \"\(tag)\" is listed twice",
                        hint: "list each tag once"
                    )
                }
            }
            groupBy = tags
        }

        let window = readWindow(table)
        let unit = table.string("unit", example: "unit = \"min\"")
        let target = table.number("target")
        var direction = Direction.below
        if let text = table.string("direction", example: "direction = \"below\"") {
            if let parsed = Direction(rawValue: text) {
                direction = parsed
            } else {
                table.report(
                    "direction",
                    "unknown direction \"\(text)\"",
                    hint: Suggestions.hint(for: text, among: ["below", "above"])
                        + " (the value should stay below or above target)"
                )
            }
        }
        let minSamples = table.integer("min_samples", in: 0...Int.max) ?? 1
        let buckets = table.integer("buckets", in: 1...3_600) ?? 60
        let maxSeries = table.integer("max_series", in: 1...10_000_000) ?? defaultMaxSeries
        let lateness = table.duration("lateness")
        if let lateness, case .sliding(let length)? = window, lateness > length {
            table.report(
                "lateness",
                "\(DurationFormat.format(nanoseconds: lateness)) is longer than the window",
                hint: "lateness must be at most the window's length (\(DurationFormat.format(nanoseconds: length)))"
            )
        }

        guard diagnostics.errors.count == errorsBefore, let aggregate, let selector, let window else { return nil }
        return KPIDefinition(
            name: name,
            title: title ?? name,
            selector: selector,
            denominator: denominator,
            groupBy: groupBy,
            aggregate: aggregate,
            window: window,
            unit: unit,
            target: target,
            direction: direction,
            minSamples: minSamples,
            lateness: lateness,
            buckets: buckets,
            maxSeries: maxSeries
        )
    }

    /// `aggregate` and the options that belong to it (`quantile`, `per`, `below`/`above`).
    static func readAggregate(_ table: TableReader) -> Aggregate? {
        let options = ["quantile": "quantile", "per": "rate", "below": "share", "above": "share"]
        guard table.contains("aggregate") else {
            table.reportMissing(
                "aggregate",
                known: kpiKeys,
                "missing aggregate",
                hint: "add aggregate = one of " + aggregateNames.joined(separator: " ")
            )
            return nil
        }
        guard let name = table.string("aggregate", example: "aggregate = \"p90\"") else { return nil }
        guard aggregateNames.contains(name) else {
            var hint = Suggestions.hint(for: name, among: aggregateNames, listName: "aggregates")
            if let percent = percentile(name) {
                hint = "write aggregate = \"quantile\" and quantile = \(percent)"
            }
            table.report("aggregate", "unknown aggregate \"\(name)\"", hint: hint)
            return nil
        }
        for (key, owner) in options.sorted(by: { $0.key < $1.key }) where owner != name && table.contains(key) {
            table.report(
                key,
                "\(key) only applies to aggregate \"\(owner)\", not \"\(name)\"",
                hint: "remove \(key), or set aggregate = \"\(owner)\""
            )
        }
        switch name {
        case "count": return .count
        case "sum": return .sum
        case "mean": return .mean
        case "min": return .min
        case "max": return .max
        case "last": return .last
        case "p50": return .quantile(0.5)
        case "p90": return .quantile(0.9)
        case "p95": return .quantile(0.95)
        case "p99": return .quantile(0.99)
        case "ratio": return .ratio
        case "rate":
            guard let per = table.duration("per", minimum: 1) ?? (table.contains("per") ? nil : 1_000_000_000) else {
                return nil
            }
            return .rate(perSeconds: Double(per) / 1e9)
        case "quantile":
            guard table.contains("quantile") else {
                table.reportMissing(
                    "quantile",
                    known: kpiKeys,
                    "aggregate \"quantile\" needs quantile",
                    hint: "add quantile = 0.75 (between 0 and 1)"
                )
                return nil
            }
            guard let q = table.number("quantile") else { return nil }
            guard q > 0, q < 1 else {
                table.report(
                    "quantile",
                    "\(TableReader.format(q)) is out of range",
                    hint: "a quantile is strictly between 0 and 1: 0.75 for the 75th percentile"
                )
                return nil
            }
            return .quantile(q)
        default:  // share
            let below = table.number("below")
            let above = table.number("above")
            switch (below, above, table.contains("below"), table.contains("above")) {
            case (let threshold?, nil, _, false): return .share(threshold: threshold, below: true)
            case (nil, let threshold?, false, _): return .share(threshold: threshold, below: false)
            case (_, _, true, true):
                table.report(
                    "above",
                    "share takes below or above, not both",
                    hint: "keep one: below = 5 counts the samples under 5"
                )
                return nil
            case (_, _, false, false):
                table.report(
                    "aggregate",
                    "aggregate \"share\" needs a threshold",
                    hint: "add below = X (fraction of samples under X) or above = X"
                )
                return nil
            default:
                return nil  // a wrongly typed threshold, already reported
            }
        }
    }

    /// `p75` → `0.75`: the quantile a person meant by a percentile name we do not list.
    static func percentile(_ name: String) -> String? {
        guard name.hasPrefix("p"), let number = Int(name.dropFirst()), (1...99).contains(number) else { return nil }
        return number < 10 ? "0.0\(number)" : "0.\(number)".replacingZeros()
    }

    static func readWindow(_ table: TableReader) -> WindowSpec? {
        guard table.contains("window") else {
            table.reportMissing("window", known: kpiKeys, "missing window", hint: "add " + windowExample)
            return nil
        }
        if let seconds = table.table["window"]?.int {
            table.report(
                "window",
                "expected a duration string or \"today\", \"week\", \"month\", found the integer \(seconds)",
                hint: "durations are strings with a unit: window = \"\(seconds)s\" (ms, s, m, h, d, w)"
            )
            return nil
        }
        guard let text = table.string("window", example: "window = \"1h\"") else { return nil }
        switch text {
        case "today": return .today
        case "week": return .week
        case "month": return .month
        default: break
        }
        guard let length = DurationFormat.parse(text) else {
            if let calendar = Suggestions.closest(to: text, among: ["today", "week", "month"]) {
                table.report("window", "unknown window \"\(text)\"", hint: "did you mean \"\(calendar)\"?")
            } else {
                table.report(
                    "window",
                    "\"\(text)\" is not a window",
                    hint: TableReader.durationHint(key: "window", text: text) + ", or \"today\", \"week\", \"month\""
                )
            }
            return nil
        }
        guard length > 0 else {
            table.report("window", "a window must be longer than 0s", hint: "e.g. " + windowExample)
            return nil
        }
        return .sliding(nanoseconds: length)
    }

    /// `metric`, `field` and `where` of `table` itself.
    static func readSelector(_ table: TableReader, inlineExample: String?) -> SampleSelector? {
        var valid = true
        guard table.contains("metric") else {
            table.reportMissing(
                "metric",
                known: inlineExample == nil ? kpiKeys : selectorKeys,
                "missing metric",
                hint: inlineExample ?? "add metric = \"measurement_name\" (the line protocol measurement)",
                onTable: inlineExample != nil
            )
            return nil
        }
        let metric = table.nonEmptyString("metric", example: "metric = \"guichet_attente\"")
        let field =
            table.contains("field") ? table.nonEmptyString("field", example: "field = \"value\"") : "value"
        var filters: [TagFilter] = []
        if table.contains("where") {
            if let conditions = table.table("where", example: "where = { service = \"etat-civil\" }") {
                for key in conditions.keys.sorted() {
                    guard let value = conditions.table[key] else { continue }
                    if let text = value.string {
                        filters.append(TagFilter(key: key, value: text))
                    } else {
                        conditions.report(
                            key,
                            "tag values are strings, found \(TableReader.describe(value))",
                            hint: "put it in quotes: \(key) = \"\(TableReader.plain(value))\""
                        )
                        valid = false
                    }
                }
            } else {
                valid = false
            }
        }
        guard valid, let metric, let field else { return nil }
        return SampleSelector(metric: metric, field: field, filters: filters)
    }

    /// `numerator` or `denominator` of a ratio: an inline table with a selector.
    static func readSelectorTable(_ table: TableReader, key: String) -> SampleSelector? {
        let example = "\(key) = { metric = \"appels\", field = \"\(key == "numerator" ? "decroche" : "recu")\" }"
        guard table.contains(key) else {
            table.reportMissing(key, known: kpiKeys, "a ratio KPI needs \(key)", hint: "add " + example)
            return nil
        }
        guard let sub = table.table(key, example: example) else { return nil }
        sub.rejectUnknownKeys(selectorKeys, context: key)
        return readSelector(sub, inlineExample: "write " + example)
    }
}

extension String {
    /// `0.50` → `0.5`: drops trailing zeros after a decimal point.
    fileprivate func replacingZeros() -> String {
        guard contains(".") else { return self }
        var text = self
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}
