/// A 1-based line and byte column in the configuration text.
struct SourceLocation: Equatable, Sendable {
    var line: Int
    var column: Int
}

/// Line numbers of the keys and table headers of a TOML document.
///
/// TOMLKit gives values without positions, so this scans the text itself: it follows
/// `[table]` and `[[array]]` headers (counting array entries), `key = value`
/// assignments with dotted or quoted keys, inline tables and arrays (also across
/// lines), strings of every kind and comments. It is run on text that TOMLKit has
/// already accepted, so it can be lenient; on anything it does not understand it skips
/// to the next line and never fails.
struct SourceMap: Sendable {
    private let locations: [String: SourceLocation]

    init(text: String) {
        var scanner = Scanner(bytes: Array(text.utf8))
        scanner.run()
        locations = scanner.locations
    }

    /// Location of `path` itself, or else of its nearest ancestor that has one (the
    /// enclosing table header for a missing key); `nil` when none does.
    func location(of path: ConfigPath) -> SourceLocation? {
        var current = path
        while true {
            if let found = locations[current.text] { return found }
            if current.isEmpty { return nil }
            current.removeLast()
        }
    }

    /// Location of exactly `path`, if the text has it.
    func exactLocation(of path: ConfigPath) -> SourceLocation? {
        locations[path.text]
    }
}

private struct Scanner {
    let bytes: [UInt8]
    var offset = 0
    var line = 1
    var lineStart = 0
    var locations: [String: SourceLocation] = [:]
    var table = ConfigPath()
    var arrayCounts: [String: Int] = [:]

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    var here: SourceLocation { SourceLocation(line: line, column: offset - lineStart + 1) }

    func peek(_ ahead: Int = 0) -> UInt8? {
        let index = offset + ahead
        return index < bytes.count ? bytes[index] : nil
    }

    mutating func advance() {
        guard offset < bytes.count else { return }
        if bytes[offset] == UInt8(ascii: "\n") {
            line += 1
            lineStart = offset + 1
        }
        offset += 1
    }

    mutating func run() {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            offset = 3
            lineStart = 3
        }
        while offset < bytes.count {
            skipBlank(newlines: true)
            guard let byte = peek() else { break }
            let start = offset
            if byte == UInt8(ascii: "[") {
                header()
            } else {
                keyValue(base: table)
            }
            skipRestOfLine()
            if offset == start { advance() }
        }
    }

    // MARK: Statements

    mutating func header() {
        let location = here
        advance()
        let isArray = peek() == UInt8(ascii: "[")
        if isArray { advance() }
        guard let keys = key() else { return }
        var path = ConfigPath()
        for (position, name) in keys.enumerated() {
            path = path.appending(name)
            let isLast = position == keys.count - 1
            if isLast && isArray {
                let count = arrayCounts[path.text, default: 0]
                arrayCounts[path.text] = count + 1
                path = path.appending(index: count)
            } else if let count = arrayCounts[path.text], count > 0 {
                path = path.appending(index: count - 1)
            }
            if !isLast, locations[path.text] == nil { locations[path.text] = location }
        }
        locations[path.text] = location
        table = path
    }

    mutating func keyValue(base: ConfigPath) {
        let location = here
        guard let keys = key() else { return }
        skipBlank(newlines: false)
        guard peek() == UInt8(ascii: "=") else { return }
        advance()
        var path = base
        for (position, name) in keys.enumerated() {
            path = path.appending(name)
            if position < keys.count - 1, locations[path.text] == nil { locations[path.text] = location }
        }
        locations[path.text] = location
        value(path: path)
    }

    // MARK: Values

    mutating func value(path: ConfigPath) {
        skipBlank(newlines: false)
        guard let byte = peek() else { return }
        switch byte {
        case UInt8(ascii: "{"):
            advance()
            while true {
                skipBlank(newlines: true)
                guard let next = peek() else { return }
                if next == UInt8(ascii: "}") {
                    advance()
                    return
                }
                if next == UInt8(ascii: ",") {
                    advance()
                    continue
                }
                let start = offset
                keyValue(base: path)
                if offset == start { return }
            }
        case UInt8(ascii: "["):
            advance()
            var index = 0
            while true {
                skipBlank(newlines: true)
                guard let next = peek() else { return }
                if next == UInt8(ascii: "]") {
                    advance()
                    return
                }
                if next == UInt8(ascii: ",") {
                    advance()
                    index += 1
                    continue
                }
                let element = path.appending(index: index)
                if locations[element.text] == nil { locations[element.text] = here }
                let start = offset
                value(path: element)
                if offset == start { return }
            }
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            _ = string()
        default:
            while let next = peek(), !Self.scalarEnd.contains(next) { advance() }
        }
    }

    static let scalarEnd: Set<UInt8> = Set(",]}#\r\n".utf8)

    /// Consumes a string of any of the four kinds and returns its (roughly decoded) text.
    mutating func string() -> String? {
        guard let quote = peek() else { return nil }
        let basic = quote == UInt8(ascii: "\"")
        let multiline = peek(1) == quote && peek(2) == quote
        advance()
        if multiline {
            advance()
            advance()
        }
        var text: [UInt8] = []
        while let byte = peek() {
            if basic && byte == UInt8(ascii: "\\") {
                advance()
                if let escaped = peek() {
                    text.append(escaped)
                    advance()
                }
                continue
            }
            if byte == quote {
                if !multiline {
                    advance()
                    return String(decoding: text, as: UTF8.self)
                }
                if peek(1) == quote && peek(2) == quote {
                    advance()
                    advance()
                    advance()
                    // A closing delimiter may be preceded by up to two quotes of the content.
                    while peek() == quote { advance() }
                    return String(decoding: text, as: UTF8.self)
                }
            }
            if !multiline && byte == UInt8(ascii: "\n") { return nil }
            text.append(byte)
            advance()
        }
        return nil
    }

    // MARK: Keys and blanks

    /// A dotted key (`a`, `a.b`, `"a b".'c'`) as its parts; `nil` when there is none here.
    mutating func key() -> [String]? {
        var parts: [String] = []
        while true {
            skipBlank(newlines: false)
            guard let byte = peek() else { break }
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                guard let part = string() else { return nil }
                parts.append(part)
            } else {
                var bare: [UInt8] = []
                while let next = peek(), Self.isBareKeyByte(next) {
                    bare.append(next)
                    advance()
                }
                if bare.isEmpty { break }
                parts.append(String(decoding: bare, as: UTF8.self))
            }
            skipBlank(newlines: false)
            guard peek() == UInt8(ascii: ".") else { break }
            advance()
        }
        return parts.isEmpty ? nil : parts
    }

    static func isBareKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return byte >= 0x80
        }
    }

    mutating func skipBlank(newlines: Bool) {
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                advance()
            case UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                guard newlines else { return }
                advance()
            case UInt8(ascii: "#"):
                guard newlines else { return }
                while let next = peek(), next != UInt8(ascii: "\n") { advance() }
            default:
                return
            }
        }
    }

    mutating func skipRestOfLine() {
        while let byte = peek() {
            advance()
            if byte == UInt8(ascii: "\n") { return }
        }
    }
}
