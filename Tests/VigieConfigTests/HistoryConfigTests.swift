import Testing
import VigieConfig

@Suite("[history]")
struct HistoryConfigTests {
    @Test("absent table: history on, minutes kept 14 days, hours 3 years")
    func defaults() throws {
        let config = try ConfigLoader.parse("")
        #expect(config.history == HistoryConfiguration())
        #expect(config.history.enabled)
        #expect(config.history.minuteRetention == 14 * 86_400 * 1_000_000_000)
        #expect(config.history.hourRetention == 3 * 365 * 86_400 * 1_000_000_000)
    }

    @Test("every key, durations and whole years")
    func table() throws {
        let config = try ConfigLoader.parse(
            """
            [history]
            enabled = false
            minutes = "2d12h"
            hours = "400d"
            """
        )
        let day: Int64 = 86_400 * 1_000_000_000
        #expect(
            config.history
                == HistoryConfiguration(enabled: false, minuteRetention: 60 * day / 24, hourRetention: 400 * day)
        )
        #expect(try ConfigLoader.parse("[history]\nhours = \"5y\"").history.hourRetention == 5 * 365 * day)
        #expect(try ConfigLoader.parse("[history]\nminutes = \"1h\"\nhours = \"1h\"").history.hourRetention == day / 24)
    }

    @Test(
        "mistakes are reported with line, key and hint",
        arguments: [
            (
                "[history]\nminute = \"14d\"", 2, "history.minute", "unknown key in [history]",
                "did you mean \"minutes\"?"
            ),
            ("[history]\n\nenabled = \"yes\"", 3, "history.enabled", "expected a boolean", "enabled = true"),
            ("[history]\nminutes = \"two weeks\"", 2, "history.minutes", "is not a duration", "\"30s\""),
            ("[history]\nminutes = \"30m\"", 2, "history.minutes", "is too short", "at least 1h"),
            ("[history]\nhours = 3", 2, "history.hours", "expected a duration string", "\"3s\""),
            ("[history]\nhours = \"0y\"", 2, "history.hours", "\"0y\" is out of range", "1y to 200y"),
            ("[history]\nminutes = \"14d\"\nhours = \"7d\"", 3, "history.hours", "kept for less time", "raise hours"),
            ("[history]\nminutes = \"4y\"", 2, "history.minutes", "(1095d < 1460d)", "lower minutes"),
            ("history = 3", 1, "history", "expected a table", "[history] on its own line"),
        ] as [(String, Int, String, String, String)]
    )
    func mistakes(toml: String, line: Int, key: String, message: String, hint: String) throws {
        let errors = configErrors(toml)
        #expect(errors.count == 1, "\(errors)")
        let error = try #require(errors.first)
        #expect(error.line == line, "\(error)")
        #expect(error.key == key, "\(error)")
        #expect(error.message.contains(message), "\(error)")
        #expect(error.hint?.contains(hint) == true, "\(error)")
    }
}
