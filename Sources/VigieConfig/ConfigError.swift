/// One problem found in a configuration file, with where it is and how to fix it.
///
/// `description` reads `file:line: key: message (hint: …)`, the form editors and
/// `grep` understand; `line` is `nil` only when the problem has no place in the text
/// (an unreadable file, a key that is missing from the whole file).
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Path of the file, as given to the loader (`<string>` for text parsed directly).
    public var file: String
    /// 1-based line of the offending key, table header or syntax error.
    public var line: Int?
    /// 1-based column; set for TOML syntax errors only.
    public var column: Int?
    /// Which setting is wrong, readable by a person: `daemon.timezone`,
    /// `kpi "etat_civil.attente_p90": window`, `kpi #3: name`; empty for syntax errors.
    public var key: String
    /// What is wrong, e.g. `unknown aggregate "average"`.
    public var message: String
    /// How to fix it, e.g. `did you mean "mean"?`.
    public var hint: String?

    /// Creates an error; see the properties for what each part means.
    public init(file: String, line: Int? = nil, column: Int? = nil, key: String, message: String, hint: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
        self.hint = hint
    }

    /// `file:line[:column]: key: message`, without the hint: the first line `vigie check-config` prints.
    public var headline: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": "
        if !key.isEmpty { text += key + ": " }
        return text + message
    }

    /// `file:line: key: message (hint: …)`.
    public var description: String {
        guard let hint else { return headline }
        return headline + " (hint: \(hint))"
    }
}

/// Every problem found in one configuration file, in file order.
///
/// The loader never stops at the first problem: a file with three mistakes gets
/// three entries, so the user can fix them all in one pass.
public struct ConfigErrors: Error, Equatable, Sendable, CustomStringConvertible {
    /// The problems, sorted by line (problems without a line last).
    public var errors: [ConfigError]

    /// Wraps `errors`, which should not be empty.
    public init(_ errors: [ConfigError]) {
        self.errors = errors
    }

    /// One `ConfigError.description` per line.
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
