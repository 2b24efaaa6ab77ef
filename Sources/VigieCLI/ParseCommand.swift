import ArgumentParser
import VigieCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `vigie parse [--json] [FILE]`: checks line protocol the way `vigied` will, without sending it.
///
/// Prints each accepted sample on stdout (a readable summary, or one `SampleJSON` object per line with `--json`)
/// and one `line:column: reason` per rejected line on stderr. Exits 1 if any line was rejected, 66 if the input
/// cannot be read, 0 otherwise. Clock-dependent policies (too old, too far in the future) apply at ingest only.
public struct ParseCommand: ParsableCommand {
    /// Name and help of `vigie parse`.
    public static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Check line protocol the way vigied will, without sending it.",
        discussion: """
            Reads FILE (or standard input when FILE is '-' or absent) as InfluxDB line protocol. Accepted \
            samples go to stdout; each rejected line is reported on stderr as 'line:column: reason'. Exit \
            status: 0 when every line is accepted, 1 when any line is rejected, 66 when the input cannot be read.
            """
    )

    /// Print one JSON object per accepted sample instead of a readable summary.
    @Flag(name: .long, help: "Print one JSON object per accepted sample.")
    public var json = false

    /// The file to check; `-` or absent means standard input.
    @Argument(help: "Line-protocol file to check ('-' or none: standard input).")
    public var file: String?

    /// Creates the command (ArgumentParser fills it in).
    public init() {}

    /// Reads the input, parses it in place and reports every line.
    public func run() throws {
        let input: [UInt8]
        do {
            input = try StandardStreams.readAll(path: file)
        } catch {
            let name = file.flatMap { $0 == "-" ? nil : $0 } ?? "standard input"
            StandardStreams.writeAll(STDERR_FILENO, "vigie parse: cannot read \(name): \(error.message)\n")
            throw ExitCode(66)  // EX_NOINPUT, as `vigie push`
        }

        let parser = LineProtocolParser()
        var output = BufferedOutput(fd: STDOUT_FILENO)
        let asJSON = json
        let summary = input.withUnsafeBytes { payload in
            parser.parse(
                payload,
                onLine: { line in
                    if asJSON {
                        SampleJSON.append(line, into: &output.bytes)
                    } else {
                        SampleSummary.append(line, into: &output.bytes)
                    }
                    output.bytes.append(0x0A)
                    output.flushIfFull()
                },
                onError: { error in
                    output.flush()  // Keeps stdout and stderr in line order on a terminal.
                    StandardStreams.writeAll(STDERR_FILENO, "\(error.description)\n")
                }
            )
        }
        if !asJSON {
            let noun = summary.lines == 1 ? "line" : "lines"
            let text = "\(summary.lines) \(noun): \(summary.accepted) accepted, \(summary.rejected) rejected\n"
            output.bytes.append(contentsOf: text.utf8)
        }
        output.flush()
        if summary.rejected > 0 { throw ExitCode(1) }
    }
}
