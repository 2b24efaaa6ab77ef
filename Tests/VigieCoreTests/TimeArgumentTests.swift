import Testing
import VigieCore
import VigieTesting

@Suite("RFC 3339 parsing and time arguments")
struct TimeArgumentTests {
    @Test(
        "RFC 3339 text reads back as the instant Timestamps.rfc3339 prints",
        arguments: [
            ("2026-06-01T00:00:00Z", t0),
            ("2026-06-01T00:00:00.000Z", t0),
            ("2026-06-01t00:00:00z", t0),
            ("2026-06-01 00:00:00Z", t0),
            ("2026-06-01T11:00:00+11:00", t0),
            ("2026-05-31T22:30:00-01:30", t0),
            ("2026-06-01T00:00:01.5Z", t0 + 1_500_000_000),
            ("2026-06-01T00:00:00.123456789Z", t0 + 123_456_789),
            ("2026-06-01T00:00:00.1234567891Z", t0 + 123_456_789),
            ("1970-01-01T00:00:00Z", 0),
            ("1969-12-31T23:59:59Z", -second),
            ("2024-02-29T12:00:00Z", 1_709_208_000 * second),
            ("2000-03-01T00:00:00Z", 951_868_800 * second),
        ] as [(String, Int64)]
    )
    func rfc3339(text: String, expected: Int64) {
        #expect(Timestamps.parseRFC3339(text) == expected)
    }

    @Test(
        "malformed or impossible RFC 3339 text is refused",
        arguments: [
            "", "2026-06-01", "2026-06-01T00:00:00", "2026-06-01T00:00Z", "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z", "2026-06-31T00:00:00Z", "2026-06-01T24:00:00Z", "2026-06-01T00:60:00Z",
            "2026-06-01T00:00:00.Z", "2026-06-01T00:00:00+1100", "2026-06-01T00:00:00Zjunk", "2026/06/01T00:00:00Z",
            "2026-06-01T00:00:00+11:00x", "9999-01-01T00:00:00Z", "26-06-01T00:00:00Z",
        ]
    )
    func rfc3339Refused(text: String) {
        #expect(Timestamps.parseRFC3339(text) == nil)
    }

    @Test("round trip with the formatter, milliseconds")
    func roundTrip() {
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<1_000 {
            let ms = Int64.random(in: 0...(4_102_444_800_000), using: &rng)
            let t = ms * 1_000_000
            #expect(Timestamps.parseRFC3339(Timestamps.rfc3339(nanoseconds: t)) == t)
        }
    }

    @Test(
        "time arguments: now, relative, date, RFC 3339",
        arguments: [
            ("now", t0), (" now ", t0), ("-7d", t0 - 7 * day), ("-24h", t0 - day), ("-1h30m", t0 - 90 * minute),
            ("+15m", t0 + 15 * minute), ("2026-11-01", 1_793_491_200 * second), ("2026-06-01T00:00:00Z", t0),
        ] as [(String, Int64)]
    )
    func timeArguments(text: String, expected: Int64) {
        #expect(TimeArgument.parse(text, now: t0) == expected)
    }

    @Test(
        "time arguments that are none of the forms",
        arguments: ["", "yesterday", "-7", "7d", "-", "2026-11-31", "-x1h"]
    )
    func timeArgumentsRefused(text: String) {
        #expect(TimeArgument.parse(text, now: t0) == nil)
    }
}
