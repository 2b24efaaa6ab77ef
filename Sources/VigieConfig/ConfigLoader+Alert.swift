import Foundation
import VigieCore

extension ConfigLoader {
    static let alertKeys = [
        "name", "kpi", "above", "below", "for", "clear_below", "clear_above", "keep_firing_for", "min_samples",
        "absent_for", "flap", "severity", "message", "schedule",
    ]
    /// Keys that only make sense with a threshold (`above` or `below`).
    static let thresholdOnlyKeys = ["for", "clear_below", "clear_above", "keep_firing_for", "min_samples", "flap"]
    static let severityNames = ["info", "warning", "critical"]
    static let flapKeys = ["window", "high", "low"]
    static let scheduleKeys = ["days", "from", "to"]
    static let scheduleExample = "schedule = { days = \"mon-fri\", from = \"07:30\", to = \"15:30\" }"
    /// The message of a deadman rule (`absent_for` only) that sets none.
    static let defaultDeadmanMessage = "Aucune donnée pour {kpi} depuis {since}"

    /// Day names accepted in `schedule.days`: English and French, short and long,
    /// mapped to ISO weekdays (1 = Monday).
    static let dayNumbers: [String: Int] = [
        "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7,
        "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6, "sunday": 7,
        "lun": 1, "mar": 2, "mer": 3, "jeu": 4, "ven": 5, "sam": 6, "dim": 7,
        "lundi": 1, "mardi": 2, "mercredi": 3, "jeudi": 4, "vendredi": 5, "samedi": 6, "dimanche": 7,
    ]
    static let shortDayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    static func readAlerts(_ root: TableReader, kpis: [KPIDefinition]) -> [AlertRule] {
        // KPI names written in the file, valid or not: an alert on a KPI that has its
        // own errors gets no extra "unknown KPI" error.
        let declaredKPIs = Set(
            (root.table["kpi"]?.array.map { Array($0) } ?? []).compactMap { $0.table?["name"]?.string }
        )
        return readArrayOfTables(
            root,
            "alert",
            above: "alert rule",
            example: "[[alert]] above each rule",
            element: "alert rule as an [[alert]] table"
        ) { reader, firstLines in
            readAlert(reader, kpis: kpis, declaredKPIs: declaredKPIs, firstLines: &firstLines)
        }
    }

    /// One `[[alert]]` table, or `nil` when it has problems (all of them reported).
    static func readAlert(
        _ unnamed: TableReader,
        kpis: [KPIDefinition],
        declaredKPIs: Set<String>,
        firstLines: inout [String: Int?]
    ) -> AlertRule? {
        let diagnostics = unnamed.diagnostics
        let errorsBefore = diagnostics.errors.count

        let (name, table) = readTableName(
            unnamed,
            label: "alert",
            noun: "alert",
            known: alertKeys,
            missingHint: "add name = \"attente_excessive\" ([A-Za-z0-9_.:-]; the feed topic is alert.<name>)",
            example: "name = \"attente_excessive\"",
            validExample: "attente_excessive",
            firstLines: &firstLines
        )

        table.rejectUnknownKeys(alertKeys, context: "an [[alert]] table")
        let kpi = readAlertKPI(table, kpis: kpis, declaredKPIs: declaredKPIs)
        let comparison = readComparison(table)
        let absentFor = table.duration("absent_for", minimum: 1)

        if comparison == nil, !table.contains("above"), !table.contains("below"), !table.contains("absent_for") {
            let conditions = ["above", "below", "absent_for"]
            let misspelt = table.keys.contains { key in
                !alertKeys.contains(key)
                    && Suggestions.closest(to: key, among: alertKeys).map(conditions.contains) == true
            }
            if !misspelt {
                table.report(
                    nil,
                    "an alert needs a condition: above, below or absent_for",
                    hint:
                        "add above = 30 (fires over 30), below = 0.8 (fires under 0.8) or absent_for = \"2h\" (deadman)"
                )
            }
        }
        if !table.contains("above"), !table.contains("below") {
            for key in thresholdOnlyKeys where table.contains(key) {
                table.report(
                    key,
                    "\(key) only applies to a threshold rule (above or below)",
                    hint: "add above = X or below = X, or remove \(key): a deadman rule fires after absent_for"
                )
            }
        }

        let forDuration = table.duration("for") ?? 0
        let keepFiringFor = table.duration("keep_firing_for") ?? 0
        let minSamples = table.integer("min_samples", in: 0...Int.max) ?? 0
        let clearThreshold = readClearThreshold(table, comparison: comparison)
        let flap = readFlap(table)
        var severity = "warning"
        if let text = table.string("severity", example: "severity = \"warning\"") {
            if severityNames.contains(text) {
                severity = text
            } else {
                table.report(
                    "severity",
                    "unknown severity \"\(text)\"",
                    hint: Suggestions.hint(for: text, among: severityNames, listName: "severities")
                )
            }
        }
        let defaultMessage =
            table.contains("above") || table.contains("below")
            ? AlertRule.defaultMessage : defaultDeadmanMessage
        let message = table.nonEmptyString("message", example: "message = \"Attente de {value} min\"")
        if let message { checkPlaceholders(message, table: table, kpi: kpi) }
        let schedule = table.contains("schedule") ? readSchedule(table) : nil

        guard diagnostics.errors.count == errorsBefore, let kpi else { return nil }
        return AlertRule(
            name: name,
            kpi: kpi.name,
            comparison: comparison,
            forDuration: forDuration,
            clearThreshold: clearThreshold,
            keepFiringFor: keepFiringFor,
            minSamples: minSamples,
            absentFor: absentFor,
            flap: flap,
            severity: severity,
            message: message ?? defaultMessage,
            schedule: schedule
        )
    }

    /// `kpi`: the watched KPI, which must be configured.
    static func readAlertKPI(_ table: TableReader, kpis: [KPIDefinition], declaredKPIs: Set<String>) -> KPIDefinition? {
        guard table.contains("kpi") else {
            table.reportMissing(
                "kpi",
                known: alertKeys,
                "missing kpi",
                hint: "add kpi = \"name of a [[kpi]]\", e.g. kpi = \"\(kpis.first?.name ?? "etat_civil.attente_p90")\""
            )
            return nil
        }
        guard let text = table.nonEmptyString("kpi", example: "kpi = \"etat_civil.attente_p90\"") else { return nil }
        if let kpi = kpis.first(where: { $0.name == text }) { return kpi }
        if declaredKPIs.contains(text) { return nil }  // that KPI's own errors are reported
        let names = kpis.map(\.name)
        let hint: String
        if let match = Suggestions.closest(to: text, among: names) {
            hint = "did you mean \"\(match)\"?"
        } else if names.isEmpty {
            hint = "define the KPI in a [[kpi]] table first"
        } else {
            hint = "configured KPIs: " + names.joined(separator: ", ")
        }
        table.report("kpi", "unknown KPI \"\(text)\"", hint: hint)
        return nil
    }

    /// `above` or `below`, at most one.
    static func readComparison(_ table: TableReader) -> AlertComparison? {
        let above = table.number("above")
        let below = table.number("below")
        if table.contains("above"), table.contains("below") {
            table.report(
                "below",
                "an alert takes above or below, not both",
                hint: "keep one, or write two [[alert]] rules"
            )
            return nil
        }
        if let above { return .above(above) }
        if let below { return .below(below) }
        return nil
    }

    /// `clear_below` (with `above`, lower than it) or `clear_above` (with `below`, higher).
    static func readClearThreshold(_ table: TableReader, comparison: AlertComparison?) -> Double? {
        let clearBelow = table.number("clear_below")
        let clearAbove = table.number("clear_above")
        var result: Double?
        if let clearBelow {
            switch comparison {
            case .above(let threshold)?:
                if clearBelow < threshold {
                    result = clearBelow
                } else {
                    let example = threshold == 0 ? -1 : threshold - abs(threshold) * 0.2
                    table.report(
                        "clear_below",
                        "clear_below (\(TableReader.format(clearBelow))) must be lower than above "
                            + "(\(TableReader.format(threshold)))",
                        hint: "hysteresis: the alert fires over \(TableReader.format(threshold)) and resolves only "
                            + "under clear_below, e.g. clear_below = \(AlertMessage.format(example))"
                    )
                }
            case .below?:
                table.report(
                    "clear_below",
                    "clear_below only applies to an above rule",
                    hint: "a below rule resolves past clear_above: write clear_above = X (higher than below)"
                )
            case nil:
                break  // reported as a threshold-only key, or the threshold has its own error
            }
        }
        if let clearAbove {
            switch comparison {
            case .below(let threshold)?:
                if clearAbove > threshold {
                    result = clearAbove
                } else {
                    table.report(
                        "clear_above",
                        "clear_above (\(TableReader.format(clearAbove))) must be higher than below "
                            + "(\(TableReader.format(threshold)))",
                        hint: "hysteresis: the alert fires under \(TableReader.format(threshold)) and resolves only "
                            + "over clear_above"
                    )
                }
            case .above?:
                table.report(
                    "clear_above",
                    "clear_above only applies to a below rule",
                    hint: "an above rule resolves past clear_below: write clear_below = X (lower than above)"
                )
            case nil:
                break
            }
        }
        return result
    }

    /// `flap = true` (Nagios defaults), `flap = false` (off) or `flap = { window, high, low }`.
    static func readFlap(_ table: TableReader) -> FlapDetection? {
        guard let value = table.table["flap"] else { return nil }
        if let enabled = value.bool { return enabled ? FlapDetection() : nil }
        guard let sub = table.table("flap", example: "flap = { window = 20, high = 50, low = 25 } or flap = true")
        else { return nil }
        sub.rejectUnknownKeys(flapKeys, context: "flap")
        var flap = FlapDetection()
        var valid = true
        let range = FlapDetection.minimumWindow...FlapDetection.maximumWindow
        if let window = sub.integer("window", in: range, unit: "evaluations") {
            flap.window = window
        } else if sub.contains("window") {
            valid = false
        }
        for key in ["high", "low"] where sub.contains(key) {
            guard let percent = sub.number(key) else {
                valid = false
                continue
            }
            guard (0...100).contains(percent) else {
                sub.report(key, "\(TableReader.format(percent)) is out of range", hint: "a percent between 0 and 100")
                valid = false
                continue
            }
            if key == "high" { flap.high = percent } else { flap.low = percent }
        }
        if valid, flap.low >= flap.high {
            sub.report(
                sub.contains("low") ? "low" : "high",
                "low (\(TableReader.format(flap.low))) must be lower than high (\(TableReader.format(flap.high)))",
                hint: "flapping starts over high and stops under low, e.g. high = 50, low = 25"
            )
            valid = false
        }
        return valid ? flap : nil
    }

    /// Checks the `{…}` placeholders of `message` against the template language and
    /// the KPI's `group_by` tags.
    static func checkPlaceholders(_ message: String, table: TableReader, kpi: KPIDefinition?) {
        for name in AlertMessage.placeholderNames(in: message) {
            if AlertMessage.placeholders.contains(name) { continue }
            if name.hasPrefix("group.") {
                guard let kpi else { continue }
                let tag = String(name.dropFirst("group.".count))
                guard !kpi.groupBy.contains(tag) else { continue }
                let hint =
                    kpi.groupBy.isEmpty
                    ? "the KPI has no group_by; remove {\(name)}"
                    : Suggestions.closest(to: tag, among: kpi.groupBy).map { "did you mean {group.\($0)}?" }
                        ?? "its group_by tags: " + kpi.groupBy.joined(separator: ", ")
                table.report("message", "KPI \"\(kpi.name)\" has no group tag \"\(tag)\"", hint: hint)
                continue
            }
            // Only names that look like placeholders; other braces are plain text.
            let looksLikePlaceholder =
                !name.isEmpty
                && name.unicodeScalars.allSatisfy { scalar in
                    switch scalar {
                    case "A"..."Z", "a"..."z", "0"..."9", "_", ".", "-": return true
                    default: return false
                    }
                }
            guard looksLikePlaceholder else { continue }
            let known = AlertMessage.placeholders + ["group.TAG"]
            table.report(
                "message",
                "unknown placeholder {\(name)}",
                hint: Suggestions.closest(to: name, among: AlertMessage.placeholders).map { "did you mean {\($0)}?" }
                    ?? "placeholders: " + known.map { "{\($0)}" }.joined(separator: " ")
            )
        }
    }

    /// `schedule = { days, from, to }`.
    static func readSchedule(_ table: TableReader) -> AlertSchedule? {
        guard let sub = table.table("schedule", example: scheduleExample) else { return nil }
        sub.rejectUnknownKeys(scheduleKeys, context: "schedule")
        var schedule = AlertSchedule()
        var valid = true
        if sub.contains("days") {
            if let days = readDays(sub) { schedule.weekdays = days } else { valid = false }
        }
        for key in ["from", "to"] where sub.contains(key) {
            guard let text = sub.string(key, example: "\(key) = \"\(key == "from" ? "07:30" : "15:30")\"") else {
                valid = false
                continue
            }
            guard let minute = parseClockTime(text), minute < 1_440 || (key == "to" && minute == 1_440) else {
                var hint = "a 24-hour local time HH:MM, from 00:00 to \(key == "to" ? "24:00" : "23:59")"
                if let fixed = clockTimeSuggestion(text) { hint = "did you mean \"\(fixed)\"? " + hint }
                sub.report(key, "\"\(text)\" is not a time of day", hint: hint)
                valid = false
                continue
            }
            if key == "from" { schedule.startMinute = minute } else { schedule.endMinute = minute }
        }
        if valid, schedule.startMinute == schedule.endMinute {
            sub.report(
                "to",
                "from and to are the same time, so the window is empty",
                hint: "for whole days write from = \"00:00\", to = \"24:00\" (or leave both out)"
            )
            valid = false
        }
        return valid ? schedule : nil
    }

    /// `days`: `"mon-fri"`, `"sat,sun"`, `["mon", "wed"]` (ranges allowed in either form,
    /// wrapping past Sunday: `"fri-mon"`).
    static func readDays(_ sub: TableReader) -> Set<Int>? {
        let parts: [(text: String, place: Scope)]
        if let text = sub.table["days"]?.string {
            let place = sub.scope.child("days")
            parts = text.split(separator: ",", omittingEmptySubsequences: false).map { (String($0), place) }
        } else if let list = sub.stringArray("days", example: "days = \"mon-fri\" or days = [\"mon\", \"tue\"]") {
            parts = list.enumerated().map { ($0.element, sub.scope.child("days").element($0.offset)) }
        } else {
            return nil
        }
        var days = Set<Int>()
        for part in parts {
            let text = part.text.trimmingCharacters(in: .whitespaces).lowercased()
            let ends = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            var numbers: [Int] = []
            for end in ends {
                guard let number = dayNumbers[end] else {
                    let shown = end.isEmpty ? part.text : end
                    sub.diagnostics.report(
                        at: part.place.path,
                        key: part.place.displayKey,
                        "unknown day \"\(shown)\"",
                        hint: (Suggestions.closest(to: end, among: dayNumbers.keys.sorted()).map {
                            "did you mean \"\($0)\"? "
                        } ?? "") + "days are mon tue wed thu fri sat sun (or lun…dim); ranges as \"mon-fri\""
                    )
                    return nil
                }
                numbers.append(number)
            }
            if numbers.count == 2 {
                var day = numbers[0]
                days.insert(day)
                while day != numbers[1] {
                    day = day % 7 + 1
                    days.insert(day)
                }
            } else if let day = numbers.first {
                days.insert(day)
            }
        }
        if days.isEmpty {
            sub.report("days", "no days listed", hint: "e.g. days = \"mon-fri\"; leave days out for every day")
            return nil
        }
        return days
    }

    /// Minutes after midnight for `H:MM` or `HH:MM` (up to `24:00`), else `nil`.
    static func parseClockTime(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
            parts[0].allSatisfy(\.isASCII), parts[1].allSatisfy(\.isASCII),
            let hour = Int(parts[0]), let minute = Int(parts[1]), (0...24).contains(hour), (0...59).contains(minute)
        else { return nil }
        let total = hour * 60 + minute
        return total <= 1_440 ? total : nil
    }

    /// `7h30` → `07:30`, `7h` → `07:00`, `0730` → `07:30`: a fix for common time typos.
    static func clockTimeSuggestion(_ text: String) -> String? {
        let lowered = text.lowercased().trimmingCharacters(in: .whitespaces)
        var candidate: String?
        if lowered.contains("h") {
            let parts = lowered.split(separator: "h", omittingEmptySubsequences: false)
            if parts.count == 2 { candidate = "\(parts[0]):\(parts[1].isEmpty ? "00" : String(parts[1]))" }
        } else if lowered.contains(".") {
            candidate = lowered.replacingOccurrences(of: ".", with: ":")
        } else if lowered.count == 4, lowered.allSatisfy(\.isNumber) {
            candidate = "\(lowered.prefix(2)):\(lowered.suffix(2))"
        }
        guard let candidate, let minute = parseClockTime(candidate) else { return nil }
        let hour = minute / 60
        let rest = minute % 60
        return (hour < 10 ? "0" : "") + "\(hour):" + (rest < 10 ? "0" : "") + "\(rest)"
    }
}
