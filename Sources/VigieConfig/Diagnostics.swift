/// Collects every `ConfigError` of one file while the loader walks it.
///
/// Owned by a single `ConfigLoader.parse` call; not shared between threads.
final class Diagnostics {
    let file: String
    let sourceMap: SourceMap
    private(set) var errors: [ConfigError] = []

    init(file: String, sourceMap: SourceMap) {
        self.file = file
        self.sourceMap = sourceMap
    }

    /// Records a problem at `path` (its line comes from the source map), shown as `key`.
    func report(at path: ConfigPath, key: String, _ message: String, hint: String? = nil) {
        let location = sourceMap.location(of: path)
        errors.append(ConfigError(file: file, line: location?.line, key: key, message: message, hint: hint))
    }

    /// The errors in file order: by line, problems without a line last, ties in the
    /// order they were found.
    var sortedErrors: [ConfigError] {
        errors.enumerated().sorted { lhs, rhs in
            let left = lhs.element.line ?? Int.max
            let right = rhs.element.line ?? Int.max
            return left != right ? left < right : lhs.offset < rhs.offset
        }.map(\.element)
    }
}

/// How a place in the document is named in messages, and where it is.
///
/// `label` names the enclosing object for people (`kpi "attente"`, `kpi #3`), and
/// `relative` is the key path inside it; without a label the full dotted path is shown.
struct Scope {
    var path: ConfigPath
    var label: String?
    var relative: ConfigPath

    static let root = Scope(path: ConfigPath(), label: nil, relative: ConfigPath())

    func child(_ key: String) -> Scope {
        Scope(path: path.appending(key), label: label, relative: relative.appending(key))
    }

    func element(_ index: Int) -> Scope {
        Scope(path: path.appending(index: index), label: label, relative: relative.appending(index: index))
    }

    /// `kpi "x": where.service`, `daemon.timezone`, `kpi "x"`.
    var displayKey: String {
        let inner = relative.text
        guard let label else { return inner }
        return inner.isEmpty ? label : "\(label): \(inner)"
    }
}
