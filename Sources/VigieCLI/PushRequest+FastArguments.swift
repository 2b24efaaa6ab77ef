extension PushRequest {
    /// Parses `vigie push`'s arguments without ArgumentParser, for the forms scripts use:
    /// `METRIC VALUE`, `--name value`, `--name=value`, `-t value` and the two flags.
    ///
    /// ArgumentParser's parse builds its argument tree by reflection and looks up
    /// protocol conformances across the whole binary: most of a short-lived push's CPU
    /// time. This parser accepts only what ArgumentParser reads the same way and returns
    /// nil for anything else (help, `--`, an unknown or repeated single option, a value
    /// that starts with `-`, an empty argument, a number that does not parse…), so the
    /// caller falls back to the full parser and its messages. A test holds the two
    /// parsers to the same result on every form this one accepts.
    init?(fastArguments arguments: [String]) {
        self.init()
        var positionals: [String] = []
        var seen: [String] = []  // few entries: no hashing at start-up
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard !argument.isEmpty else { return nil }
            guard argument.hasPrefix("-") else {
                positionals.append(argument)
                continue
            }
            var name = argument
            var attached: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                attached = String(argument[argument.index(after: equals)...])
            }
            if name == "--quiet" || name == "--spool-to-agent" {
                guard attached == nil, !seen.contains(name) else { return nil }
                seen.append(name)
                if name == "--quiet" { quiet = true } else { spoolToAgent = true }
                continue
            }
            let optionValue: String
            if let attached {
                optionValue = attached
            } else {
                guard index < arguments.count else { return nil }
                optionValue = arguments[index]
                index += 1
            }
            guard !optionValue.isEmpty, !optionValue.hasPrefix("-") else { return nil }
            switch name {
            case "-t", "--tag": tags.append(optionValue)
            case "--file": files.append(optionValue)
            default:
                guard !seen.contains(name), set(single: name, to: optionValue) else { return nil }
                seen.append(name)
            }
        }
        guard positionals.count <= 2 else { return nil }
        metric = positionals.first
        value = positionals.count == 2 ? positionals[1] : nil
    }

    /// Stores a single-valued option; false for an unknown name or an unparsable number.
    private mutating func set(single name: String, to value: String) -> Bool {
        switch name {
        case "--field": field = value
        case "--time":
            guard let number = Int64(value) else { return false }
            time = number
        case "--timeout": timeout = value
        case "--batch-lines":
            guard let number = Int(value) else { return false }
            batchLines = number
        case "--producer": producer = value
        case "--sequence":
            guard let number = UInt64(value) else { return false }
            sequence = number
        case "--config": endpoints.config = value
        case "--ingest": endpoints.ingest = value
        case "--push": endpoints.push = value
        case "--feed": endpoints.feed = value
        case "--control": endpoints.control = value
        case "--server-key": endpoints.serverKey = value
        case "--key": endpoints.key = value
        case "--agent": agent = value
        default: return false
        }
        return true
    }
}
