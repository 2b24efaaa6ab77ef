import Testing
import VigieCore
import VigieTesting

/// A line InfluxDB accepts, with the exact JSON `vigie parse --json` prints for it.
struct AcceptedCase: Sendable, CustomTestStringConvertible {
    var input: String
    var json: String
    var testDescription: String { input.debugDescription }
}

/// A line InfluxDB rejects, with where and why.
struct RejectedCase: Sendable, CustomTestStringConvertible {
    var input: String
    var column: Int
    var reason: String
    var testDescription: String { input.debugDescription }
}

private func json(
    _ measurement: String,
    tags: String = "",
    fields: String,
    timestamp: String = "null"
) -> String {
    #"{"measurement":"\#(measurement)","tags":{\#(tags)},"fields":{\#(fields)},"timestamp":\#(timestamp)}"#
}

private func float(_ key: String, _ value: String) -> String { #""\#(key)":{"type":"float","value":\#(value)}"# }
private func int(_ key: String, _ value: String) -> String { #""\#(key)":{"type":"int","value":\#(value)}"# }
private func uint(_ key: String, _ value: String) -> String { #""\#(key)":{"type":"uint","value":\#(value)}"# }
private func bool(_ key: String, _ value: Bool) -> String { #""\#(key)":{"type":"bool","value":\#(value)}"# }
private func string(_ key: String, _ value: String) -> String { #""\#(key)":{"type":"string","value":"\#(value)"}"# }

let acceptedCases: [AcceptedCase] = [
    // Shape.
    .init(input: "m v=1", json: json("m", fields: float("v", "1.0"))),
    .init(
        input: "guichet_attente,service=etat-civil,site=centre value=12.5 1700000000000000000",
        json: json(
            "guichet_attente",
            tags: #""service":"etat-civil","site":"centre""#,
            fields: float("value", "12.5"),
            timestamp: "1700000000000000000"
        )
    ),
    .init(input: "m,b=1,a=2 v=1", json: json("m", tags: #""b":"1","a":"2""#, fields: float("v", "1.0"))),
    .init(
        input: "m v=1,w=2i,x=\"s\",y=t 0",
        json: json(
            "m",
            fields: [
                float("v", "1.0"), int("w", "2"),
                string("x", "s"), bool("y", true),
            ].joined(separator: ","),
            timestamp: "0"
        )
    ),
    .init(input: "   m v=1", json: json("m", fields: float("v", "1.0"))),
    .init(input: "\t m v=1", json: json("m", fields: float("v", "1.0"))),
    .init(input: "m  v=1   5  ", json: json("m", fields: float("v", "1.0"), timestamp: "5")),
    .init(input: "m v=1 ", json: json("m", fields: float("v", "1.0"))),
    .init(input: "m v=1\r", json: json("m", fields: float("v", "1.0"))),
    .init(input: "m=x v=1", json: json("m=x", fields: float("v", "1.0"))),
    .init(input: "m v=1,v=2", json: json("m", fields: float("v", "2.0"))),
    .init(input: "m v=1,w=2,v=3i", json: json("m", fields: int("v", "3") + "," + float("w", "2.0"))),
    // Floats.
    .init(input: "m v=12.5", json: json("m", fields: float("v", "12.5"))),
    .init(input: "m v=-12.5", json: json("m", fields: float("v", "-12.5"))),
    .init(input: "m v=.5", json: json("m", fields: float("v", "0.5"))),
    .init(input: "m v=-.5", json: json("m", fields: float("v", "-0.5"))),
    .init(input: "m v=1.", json: json("m", fields: float("v", "1.0"))),
    .init(input: "m v=007", json: json("m", fields: float("v", "7.0"))),
    .init(input: "m v=1e3", json: json("m", fields: float("v", "1000.0"))),
    .init(input: "m v=1E+3", json: json("m", fields: float("v", "1000.0"))),
    .init(input: "m v=-1.5e-2", json: json("m", fields: float("v", "-0.015"))),
    .init(input: "m v=1.e+78", json: json("m", fields: float("v", "1e+78"))),
    .init(input: "m v=1e20", json: json("m", fields: float("v", "1e+20"))),
    .init(input: "m v=0.0000001", json: json("m", fields: float("v", "1e-07"))),
    .init(input: "m v=-0.0", json: json("m", fields: float("v", "-0.0"))),
    .init(input: "m v=1e-400", json: json("m", fields: float("v", "0.0"))),
    .init(input: "m v=1.7976931348623157e308", json: json("m", fields: float("v", "1.7976931348623157e+308"))),
    .init(input: "m v=4.9e-324", json: json("m", fields: float("v", "5e-324"))),
    .init(input: "m v=0.1", json: json("m", fields: float("v", "0.1"))),
    .init(input: "m v=9007199254740993", json: json("m", fields: float("v", "9007199254740992.0"))),
    // Integers.
    .init(input: "m v=0i", json: json("m", fields: int("v", "0"))),
    .init(input: "m v=-0i", json: json("m", fields: int("v", "0"))),
    .init(input: "m v=007i", json: json("m", fields: int("v", "7"))),
    .init(input: "m v=9223372036854775807i", json: json("m", fields: int("v", "9223372036854775807"))),
    .init(input: "m v=-9223372036854775808i", json: json("m", fields: int("v", "-9223372036854775808"))),
    .init(input: "m v=0u", json: json("m", fields: uint("v", "0"))),
    .init(input: "m v=18446744073709551615u", json: json("m", fields: uint("v", "18446744073709551615"))),
    // Booleans.
    .init(input: "m v=t", json: json("m", fields: bool("v", true))),
    .init(input: "m v=T", json: json("m", fields: bool("v", true))),
    .init(input: "m v=true", json: json("m", fields: bool("v", true))),
    .init(input: "m v=True", json: json("m", fields: bool("v", true))),
    .init(input: "m v=TRUE", json: json("m", fields: bool("v", true))),
    .init(input: "m v=f", json: json("m", fields: bool("v", false))),
    .init(input: "m v=F", json: json("m", fields: bool("v", false))),
    .init(input: "m v=false", json: json("m", fields: bool("v", false))),
    .init(input: "m v=False", json: json("m", fields: bool("v", false))),
    .init(input: "m v=FALSE", json: json("m", fields: bool("v", false))),
    // Strings.
    .init(input: #"m v="""#, json: json("m", fields: string("v", ""))),
    .init(input: #"m v="a, b=c d""#, json: json("m", fields: string("v", "a, b=c d"))),
    .init(input: #"m v="a\"b""#, json: json("m", fields: string("v", #"a\"b"#))),
    .init(input: #"m v="a\\b""#, json: json("m", fields: string("v", #"a\\b"#))),
    .init(input: #"m v="a\b""#, json: json("m", fields: string("v", #"a\\b"#))),
    .init(input: #"m v="a\nb""#, json: json("m", fields: string("v", #"a\\nb"#))),
    .init(input: #"m v="\\""#, json: json("m", fields: string("v", #"\\"#))),
    .init(input: #"m v="\\\"""#, json: json("m", fields: string("v", #"\\\""#))),
    .init(input: "m v=\"a\nb\"", json: json("m", fields: string("v", #"a\nb"#))),
    .init(input: "m v=\"tab\there\"", json: json("m", fields: string("v", #"tab\there"#))),
    .init(input: "m v=\"é ü 漢\"", json: json("m", fields: string("v", "é ü 漢"))),
    // Escapes in names.
    .init(input: #"m\ x,t\ k=t\ v f\ k=1"#, json: json("m x", tags: #""t k":"t v""#, fields: float("f k", "1.0"))),
    .init(input: #"m\,x v=1"#, json: json("m,x", fields: float("v", "1.0"))),
    .init(input: #"m\=x v=1"#, json: json(#"m\\=x"#, fields: float("v", "1.0"))),
    .init(input: #"m\x v=1"#, json: json(#"m\\x"#, fields: float("v", "1.0"))),
    .init(input: #"m,k\=x=v\=y v=1"#, json: json("m", tags: #""k=x":"v=y""#, fields: float("v", "1.0"))),
    .init(input: #"m,k\,x=v\,y a\,b\=c=1"#, json: json("m", tags: #""k,x":"v,y""#, fields: float("a,b=c", "1.0"))),
    .init(input: #"m "k"=1,k\"=2"#, json: json("m", fields: float(#"\"k\""#, "1.0") + "," + float(#"k\\\""#, "2.0"))),
    .init(input: #"m,t="x" v=1"#, json: json("m", tags: #""t":"\"x\"""#, fields: float("v", "1.0"))),
    .init(input: "mé,ké=vé fé=1", json: json("mé", tags: #""ké":"vé""#, fields: float("fé", "1.0"))),
    .init(input: "m\u{01},t=\u{7F} v=1", json: json(#"m\u0001"#, tags: "\"t\":\"\u{7F}\"", fields: float("v", "1.0"))),
    // Timestamps.
    .init(input: "m v=1 -5", json: json("m", fields: float("v", "1.0"), timestamp: "-5")),
    .init(input: "m v=1 007", json: json("m", fields: float("v", "1.0"), timestamp: "7")),
    .init(
        input: "m v=1 9223372036854775806",
        json: json("m", fields: float("v", "1.0"), timestamp: "9223372036854775806")
    ),
    .init(
        input: "m v=1 -9223372036854775806",
        json: json("m", fields: float("v", "1.0"), timestamp: "-9223372036854775806")
    ),
]

let rejectedCases: [RejectedCase] = [
    .init(input: ",t=1 v=1", column: 1, reason: "missing measurement name"),
    .init(input: "m", column: 2, reason: "missing fields"),
    .init(input: "m ", column: 3, reason: "missing fields"),
    .init(input: "m,t=1", column: 6, reason: "missing fields"),
    .init(input: "m,t=1 ", column: 7, reason: "missing fields"),
    .init(input: "m, v=1", column: 3, reason: "expected tag key after ','"),
    .init(input: "m,=v f=1", column: 3, reason: "expected tag key after ','"),
    .init(input: "m,t=1, f=1", column: 7, reason: "expected tag key after ','"),
    .init(input: "m,t f=1", column: 4, reason: "expected '=' after tag key"),
    .init(input: "m,t,u=1 f=1", column: 4, reason: "expected '=' after tag key"),
    .init(input: "m,t= f=1", column: 5, reason: "missing tag value"),
    .init(input: "m,t=,u=1 f=1", column: 5, reason: "missing tag value"),
    .init(input: "m,t=a=b f=1", column: 6, reason: "unexpected '=' in tag value"),
    .init(input: #"m,k=v\\ v=1"#, column: 10, reason: "unexpected '=' in tag value"),
    .init(input: "m,t=1,t=2 f=1", column: 7, reason: "duplicate tag key 't'"),
    .init(input: #"m,t\ x=1,a=1,t\ x=2 f=1"#, column: 14, reason: "duplicate tag key 't x'"),
    .init(input: "m =1", column: 3, reason: "missing field key"),
    .init(input: "m v=1,=2", column: 7, reason: "missing field key"),
    .init(input: "m v=1,", column: 7, reason: "missing field key"),
    .init(input: "m v=1,,w=2", column: 7, reason: "missing field key"),
    .init(input: "m v", column: 4, reason: "expected '=' after field key"),
    .init(input: "m v,w=1", column: 4, reason: "expected '=' after field key"),
    .init(input: "m v=", column: 5, reason: "missing field value"),
    .init(input: "m v=,w=1", column: 5, reason: "missing field value"),
    .init(input: "m v= 1", column: 5, reason: "missing field value"),
    .init(input: "m v=1.5i", column: 5, reason: "invalid integer"),
    .init(input: "m v=1e3i", column: 5, reason: "invalid integer"),
    .init(input: "m v=-i", column: 5, reason: "invalid integer"),
    .init(input: "m v=9223372036854775808i", column: 5, reason: "invalid integer: out of range for int64"),
    .init(input: "m v=-9223372036854775809i", column: 5, reason: "invalid integer: out of range for int64"),
    .init(input: "m v=99999999999999999999999i", column: 5, reason: "invalid integer: out of range for int64"),
    .init(input: "m v=18446744073709551616u", column: 5, reason: "out of range for uint64"),
    .init(input: "m v=-1u", column: 5, reason: "invalid unsigned integer: cannot be negative"),
    .init(input: "m v=-0u", column: 5, reason: "cannot be negative"),
    .init(input: "m v=1.5u", column: 5, reason: "invalid unsigned integer"),
    .init(input: "m v=+1", column: 5, reason: "leading '+'"),
    .init(input: "m v=+1i", column: 5, reason: "leading '+'"),
    .init(input: "m v=1e400", column: 5, reason: "invalid float: out of range"),
    .init(input: "m v=-1e400", column: 5, reason: "invalid float: out of range"),
    .init(input: "m v=1.8e308", column: 5, reason: "invalid float: out of range"),
    .init(input: "m v=NaN", column: 5, reason: "NaN and infinity are not allowed"),
    .init(input: "m v=nan", column: 5, reason: "NaN and infinity are not allowed"),
    .init(input: "m v=inf", column: 5, reason: "NaN and infinity are not allowed"),
    .init(input: "m v=-inf", column: 5, reason: "NaN and infinity are not allowed"),
    .init(input: "m v=Infinity", column: 5, reason: "NaN and infinity are not allowed"),
    .init(input: "m v=-Infinity", column: 5, reason: "NaN and infinity are not allowed"),
    .init(input: "m v=-NaN", column: 5, reason: "NaN and infinity are not allowed"),
    .init(input: "m v=1.2.3", column: 5, reason: "invalid number"),
    .init(input: "m v=1e", column: 5, reason: "invalid number"),
    .init(input: "m v=1e+", column: 5, reason: "invalid number"),
    .init(input: "m v=.", column: 5, reason: "invalid number"),
    .init(input: "m v=-", column: 5, reason: "invalid number"),
    .init(input: "m v=-.", column: 5, reason: "invalid number"),
    .init(input: "m v=.e1", column: 5, reason: "invalid number"),
    .init(input: "m v=0x10", column: 5, reason: "invalid number"),
    .init(input: "m v=0x1p3", column: 5, reason: "invalid number"),
    .init(input: "m v=1_000", column: 5, reason: "invalid number"),
    .init(input: "m v=1-2", column: 5, reason: "invalid number"),
    .init(input: "m v=--1", column: 5, reason: "invalid number"),
    .init(input: "m v=1\t", column: 5, reason: "invalid number"),
    .init(input: "m v=tru", column: 5, reason: "invalid boolean"),
    .init(input: "m v=tRUE", column: 5, reason: "invalid boolean"),
    .init(input: "m v=falsey", column: 5, reason: "invalid boolean"),
    .init(input: "m v=yes", column: 5, reason: "invalid field value: expected a number, a boolean or a \"string\""),
    .init(input: "m v='s'", column: 5, reason: "invalid field value"),
    .init(input: #"m v="abc"#, column: 5, reason: "unterminated string"),
    .init(input: #"m v="abc\""#, column: 5, reason: "unterminated string"),
    .init(input: #"m v="abc"x"#, column: 10, reason: "expected ',' or ' ' after field value"),
    .init(input: #"m v="a"",w=1"#, column: 8, reason: "expected ',' or ' ' after field value"),
    .init(input: "m v=1 abc", column: 7, reason: "invalid timestamp: expected integer nanoseconds"),
    .init(input: "m v=1 1.5", column: 7, reason: "invalid timestamp"),
    .init(input: "m v=1 +5", column: 7, reason: "invalid timestamp"),
    .init(input: "m v=1 -", column: 7, reason: "invalid timestamp"),
    .init(input: "m v=1 w=2", column: 7, reason: "separate fields with ','"),
    .init(input: "m v=1 9223372036854775807", column: 7, reason: "invalid timestamp: out of range"),
    .init(input: "m v=1 -9223372036854775807", column: 7, reason: "invalid timestamp: out of range"),
    .init(input: "m v=1 -9223372036854775808", column: 7, reason: "invalid timestamp: out of range"),
    .init(input: "m v=1 99999999999999999999", column: 7, reason: "invalid timestamp: out of range"),
    .init(input: "m v=1 1 2", column: 9, reason: "unexpected text after timestamp"),
    .init(input: "  m v", column: 6, reason: "expected '=' after field key"),
]

@Suite("Line protocol: InfluxDB spec cases")
struct LineProtocolSpecTests {
    @Test(arguments: acceptedCases)
    func accepted(_ c: AcceptedCase) {
        let outcome = LineProtocolParser().parseSnapshot(c.input)
        #expect(outcome.errors == [])
        #expect(outcome.lines.map(\.json) == [c.json])
        let newlines = c.input.utf8.count(where: { $0 == 0x0A })
        #expect(outcome.summary == ParseSummary(lines: 1, accepted: 1, rejected: 0, nextLineNumber: 2 + newlines))
    }

    @Test(arguments: rejectedCases)
    func rejected(_ c: RejectedCase) throws {
        let outcome = LineProtocolParser().parseSnapshot(c.input)
        #expect(outcome.lines.isEmpty)
        let error = try #require(outcome.errors.first)
        #expect(outcome.errors.count == 1)
        #expect(error.line == 1)
        #expect(error.column == c.column)
        #expect(error.reason.contains(c.reason), "\(error.reason)")
        #expect(outcome.summary == ParseSummary(lines: 1, accepted: 0, rejected: 1, nextLineNumber: 2))
    }

    @Test("error text is line:column: reason")
    func errorDescription() {
        let outcome = LineProtocolParser().parseSnapshot("m v=1\nm,t=1,t=2 v=1\n")
        #expect(outcome.errors.map(\.description) == ["2:7: duplicate tag key 't'"])
    }
}
