import Foundation
import VigieCore

extension JSONValue {
    /// A value as `vigie` lists it (`vigie status --stats`, `vigie agent status`): a
    /// string as it is, a number or a boolean as in JSON, `null`, a list or an object as
    /// compact JSON with sorted keys.
    var displayText: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .integer(let value): return String(value)
        case .number(let value): return String(value)
        case .string(let text): return text
        case .array, .object:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            // A JSONValue always encodes (non-finite numbers cannot come from JSON text).
            return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
    }
}
