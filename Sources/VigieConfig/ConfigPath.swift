/// Where a value sits in the TOML document: `kpi[2].where.service`.
///
/// Used to look a value's line up in the `SourceMap`; indices count entries of an
/// array (or an array of tables) from 0.
struct ConfigPath: Hashable, Sendable {
    enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    private(set) var components: [Component] = []

    var isEmpty: Bool { components.isEmpty }

    func appending(_ key: String) -> ConfigPath {
        var copy = self
        copy.components.append(.key(key))
        return copy
    }

    func appending(keys: [String]) -> ConfigPath {
        var copy = self
        copy.components += keys.map { .key($0) }
        return copy
    }

    func appending(index: Int) -> ConfigPath {
        var copy = self
        copy.components.append(.index(index))
        return copy
    }

    mutating func removeLast() {
        if !components.isEmpty { components.removeLast() }
    }

    /// `kpi[2].where.service`; also the text shown to users for paths inside a table.
    var text: String {
        var out = ""
        for component in components {
            switch component {
            case .key(let key):
                if !out.isEmpty { out += "." }
                out += key
            case .index(let index):
                out += "[\(index)]"
            }
        }
        return out
    }
}
