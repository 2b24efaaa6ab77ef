/// "Did you mean …?" for misspelt keys and values (also used by the history query
/// service for KPI names).
public enum Suggestions {
    /// Common words people write for a key or value of ours, mapped to ours.
    static let aliases: [String: String] = [
        "measurement": "metric", "measure": "metric", "filter": "where", "filters": "where",
        "tags": "where", "group": "group_by", "groups": "group_by", "agg": "aggregate",
        "aggregation": "aggregate", "function": "aggregate", "period": "window", "duration": "window",
        "threshold": "target", "goal": "target", "objective": "target", "tz": "timezone",
        "time_zone": "timezone", "avg": "mean", "average": "mean", "median": "p50", "total": "sum",
        "counter": "count", "minimum": "min", "maximum": "max", "latest": "last", "percentage": "share",
        "percent": "share", "fraction": "share", "day": "today", "daily": "today", "weekly": "week",
        "monthly": "month", "lower": "below", "higher": "above", "less": "below", "more": "above",
        "under": "below", "over": "above", "name_title": "title", "label": "title",
        // French words a city's staff may type.
        "semaine": "week", "mois": "month", "jour": "today", "journee": "today", "journée": "today",
        "aujourd'hui": "today", "moyenne": "mean", "somme": "sum", "nombre": "count", "dernier": "last",
        "mediane": "p50", "médiane": "p50", "part": "share", "taux": "ratio", "titre": "title",
        "fenetre": "window", "fenêtre": "window", "cible": "target", "objectif": "target", "unite": "unit",
        "unité": "unit", "mesure": "metric", "champ": "field",
        // Alert rules: keys, severities and message placeholders.
        "flapping": "flap", "flap_detection": "flap", "warn": "warning", "crit": "critical", "error": "critical",
        "critique": "critical", "avertissement": "warning", "valeur": "value", "seuil": "threshold",
        "depuis": "since", "regle": "rule", "règle": "rule", "gravite": "severity", "gravité": "severity",
        "duree": "for", "durée": "for", "pendant": "for", "absent": "absent_for", "deadman": "absent_for",
        "horaires": "schedule", "plage": "schedule", "jours": "days", "de": "from", "a": "to", "à": "to",
    ]

    /// The candidate closest to `word`, if it is close enough to be a likely typo
    /// (or a known alias of it).
    public static func closest(to word: String, among candidates: [String]) -> String? {
        let lowered = word.lowercased()
        if let alias = aliases[lowered], candidates.contains(alias) { return alias }
        let normalizedWord = normalize(lowered)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let normalizedCandidate = normalize(candidate.lowercased())
            if normalizedCandidate == normalizedWord { return candidate }
            let distance = editDistance(Array(lowered.unicodeScalars), Array(candidate.lowercased().unicodeScalars))
            if distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        guard let best else { return nil }
        let allowed = best.candidate.count >= 8 ? 3 : best.candidate.count >= 4 ? 2 : 1
        return best.distance <= allowed ? best.candidate : nil
    }

    /// `did you mean "x"?` or, when nothing is close, the list of what is allowed.
    public static func hint(for word: String, among candidates: [String], listName: String = "allowed") -> String {
        if let match = closest(to: word, among: candidates) { return "did you mean \"\(match)\"?" }
        return "\(listName): " + candidates.joined(separator: ", ")
    }

    private static func normalize(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0 != "_" && $0 != "-" && $0 != " " })
    }

    /// Edit distance counting insertions, deletions, substitutions and swaps of two
    /// neighbours (optimal string alignment), so `ratoi` is 1 away from `ratio`.
    /// O(n·m) time, O(m) memory.
    static func editDistance<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var beforePrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                var best = Swift.min(previous[j] + 1, current[j - 1] + 1, substitution)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    best = Swift.min(best, beforePrevious[j - 2] + 1)
                }
                current[j] = best
            }
            (beforePrevious, previous, current) = (previous, current, beforePrevious)
        }
        return previous[b.count]
    }
}
