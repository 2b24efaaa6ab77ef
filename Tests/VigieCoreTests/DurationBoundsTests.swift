import Testing
import VigieCore

/// Durations from outside are bounded when parsed, so arithmetic on them cannot overflow.
@Suite struct DurationBoundsTests {
    @Test(arguments: ["36500d", "5214w2d", "876000h", "1h30m", "0", "500ms"])
    func withinTheBoundParses(text: String) {
        let parsed = DurationFormat.parse(text)
        #expect(parsed != nil)
        #expect(parsed.map { $0 <= DurationFormat.maximum } == true)
        #expect(!DurationFormat.exceedsMaximum(text))
    }

    @Test(arguments: ["36501d", "100000d", "2562047h", "106751d23h47m16s", "5215w"])
    func longerThanTheBoundIsRefusedAndSaysSo(text: String) {
        #expect(DurationFormat.parse(text) == nil)
        #expect(DurationFormat.exceedsMaximum(text))
        #expect(DurationFormat.explain(text).contains("longer than 36500d"))
    }

    @Test(arguments: ["99999999999999999999d", "-1h", "1x", "", "h", "1h\u{1B}[2J"])
    func malformedIsNotADuration(text: String) {
        #expect(DurationFormat.parse(text) == nil)
        #expect(!DurationFormat.exceedsMaximum(text))
        let message = DurationFormat.explain(text)
        #expect(message.contains("is not a duration"))
        #expect(!message.contains("\u{1B}"), "control characters are escaped in messages")
    }

    @Test func theBoundLeavesRoomForArithmeticOnTimesOfThisCentury() {
        let year2100: Int64 = 4_102_444_800_000_000_000
        #expect(!year2100.addingReportingOverflow(DurationFormat.maximum).overflow)
        #expect(!(-year2100).subtractingReportingOverflow(DurationFormat.maximum).overflow)
    }

    @Test func relativeTimesBeyondTheBoundAreNotTimes() {
        let now: Int64 = 1_800_000_000_000_000_000
        #expect(TimeArgument.parse("-2562047h", now: now) == nil)
        #expect(TimeArgument.parse("+36500d", now: now) == now + DurationFormat.maximum)
    }
}
