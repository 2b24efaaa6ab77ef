import VigieCore

extension ConfigLoader {
    static let historyKeys = ["enabled", "minutes", "hours"]

    static func readHistory(_ table: TableReader) -> HistoryConfiguration {
        table.rejectUnknownKeys(historyKeys, context: "[history]")
        var history = HistoryConfiguration()
        if let value = table.table["enabled"] {
            if let enabled = value.bool {
                history.enabled = enabled
            } else {
                table.reportType("enabled", value, expected: "a boolean", example: "enabled = true")
            }
        }
        if let value = retention(table, "minutes") { history.minuteRetention = value }
        if let value = retention(table, "hours") { history.hourRetention = value }
        if history.hourRetention < history.minuteRetention {
            table.report(
                table.contains("hours") ? "hours" : "minutes",
                "hour rows would be kept for less time than minute rows "
                    + "(\(DurationFormat.format(nanoseconds: history.hourRetention)) < "
                    + "\(DurationFormat.format(nanoseconds: history.minuteRetention)))",
                hint: "raise hours (e.g. hours = \"3y\") or lower minutes"
            )
        }
        return history
    }

    /// A retention: a duration (`14d`, at least `1h`) or whole years (`3y`, 365 days
    /// each).
    private static func retention(_ table: TableReader, _ key: String) -> Int64? {
        let year: Int64 = 365 * 86_400 * 1_000_000_000
        if let text = table.table[key]?.string, text.hasSuffix("y"), let years = Int64(text.dropLast()) {
            guard years >= 1, years <= 200 else {
                table.report(key, "\"\(text)\" is out of range", hint: "keep history from 1y to 200y")
                return nil
            }
            return years * year
        }
        return table.duration(key, minimum: 3_600 * 1_000_000_000)
    }

    static let httpKeys = ["listen", "hosts"]

    static func readHTTP(_ table: TableReader) -> HTTPConfiguration {
        table.rejectUnknownKeys(httpKeys, context: "[http]")
        var http = HTTPConfiguration()
        if let text = table.string("listen", example: "listen = \"127.0.0.1:9464\"") {
            if let listen = HostPort(parsing: text) {
                http.listen = listen
            } else {
                table.report(
                    "listen",
                    "\"\(text)\" is not host:port",
                    hint: "e.g. listen = \"127.0.0.1:9464\" (loopback) or \"[::1]:9464\"; port 0 picks a free one"
                )
            }
        }
        if let hosts = table.stringArray("hosts", example: "hosts = [\"vigie.mairie.nc\"]") {
            http.hosts = hosts.map { $0.lowercased() }
        }
        return http
    }
}
