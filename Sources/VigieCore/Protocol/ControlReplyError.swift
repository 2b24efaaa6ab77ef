/// Why a control reply could not be read as the reply expected: the daemon refused the
/// request (`{"ok":false,…}`: its error text), or the bytes are not such a reply (the
/// description names the member that is missing or wrong, e.g. `points[2].samples`).
public enum ControlReplyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `"ok":false`: the daemon refused the request.
    case refused(ControlReply.Failure)
    /// Not JSON, or JSON that is not an object.
    case notJSONObject
    /// A member the reply must have is absent (`path`: `kpis[0].status`).
    case missingMember(path: String)
    /// A member holds the wrong kind of value, or `null` where a value is needed
    /// (`expected`: `a number`, `a string`, `one of …`).
    case invalidMember(path: String, expected: String)

    public var description: String {
        switch self {
        case .refused(let failure): failure.error
        case .notJSONObject: "control reply is not a JSON object"
        case .missingMember(let path): "control reply has no member \"\(path)\""
        case .invalidMember(let path, let expected): "control reply member \"\(path)\" is not \(expected)"
        }
    }

    /// What `JSONDecoder` reported, in the terms above.
    init(_ error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            self = .missingMember(path: Self.path(context.codingPath + [key]))
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            self =
                context.codingPath.isEmpty
                ? .notJSONObject : .invalidMember(path: Self.path(context.codingPath), expected: Self.kind(type))
        case .dataCorrupted(let context):
            // Not JSON at all; or, inside, a value no case of an enum has.
            self =
                context.codingPath.isEmpty
                ? .notJSONObject
                : .invalidMember(path: Self.path(context.codingPath), expected: "a known value")
        @unknown default:
            self = .notJSONObject
        }
    }

    /// `kpis[0].group.site`.
    static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return text
    }

    /// `a number`, `a string`… for the type `JSONDecoder` expected.
    static func kind(_ type: Any.Type) -> String {
        switch type {
        case is Bool.Type: "a boolean"
        case is String.Type: "a string"
        case is any FixedWidthInteger.Type: "an integer"
        case is any BinaryFloatingPoint.Type: "a number"
        default:
            // `JSONDecoder` names a container it expected by its Foundation type.
            String(describing: type).hasPrefix("Array")
                ? "an array"
                : String(describing: type).hasPrefix("Dictionary") ? "an object" : "a \(type)"
        }
    }
}
