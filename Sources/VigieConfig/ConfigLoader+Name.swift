import VigieCore

extension ConfigLoader {
    /// Reads the `name` of one `[[kind]]` table first, since it labels every other
    /// message about the table: reports a missing, invalid or duplicate name, and
    /// returns the name ("" when unusable) with a reader whose messages say
    /// `<label> "<name>"`.
    ///
    /// - Parameters:
    ///   - label: how messages name the table, e.g. `kpi`, `alert`, `notifier`.
    ///   - noun: how prose names it, e.g. `KPI`, `alert`, `notifier`.
    static func readTableName(
        _ unnamed: TableReader,
        label: String,
        noun: String,
        known: [String],
        missingHint: String,
        example: String,
        validExample: String,
        firstLines: inout [String: Int?]
    ) -> (name: String, table: TableReader) {
        guard unnamed.contains("name") else {
            unnamed.reportMissing("name", known: known, "missing name", hint: missingHint)
            return ("", unnamed)
        }
        guard let text = unnamed.nonEmptyString("name", example: example) else { return ("", unnamed) }
        guard isValidName(text) else {
            unnamed.report(
                "name",
                "\"\(text)\" is not a valid \(noun) name",
                hint: "use letters, digits and _ . : - only, e.g. \"\(validExample)\""
            )
            return ("", unnamed)
        }
        var scope = unnamed.scope
        scope.label = "\(label) \"\(text)\""
        let table = TableReader(unnamed.table, scope: scope, diagnostics: unnamed.diagnostics)
        let line = unnamed.diagnostics.sourceMap.exactLocation(of: scope.path.appending("name"))?.line
        if let first = firstLines[text] {
            table.report(
                "name",
                "duplicate \(noun) name \"\(text)\"",
                hint: first.map { "already defined at line \($0); \(noun) names must be unique" }
                    ?? "\(noun) names must be unique"
            )
        } else {
            firstLines[text] = line
        }
        return (text, table)
    }
}
