import ArgumentParser
import Foundation
import VigieCore
import ZeroMQ

/// `vigie simulate`: believable traffic for `config/vigie.toml`.
///
/// Each stream is a Poisson process whose rate follows a daily profile in simulated
/// local time (counters open 07:30–15:30 on weekdays, calls peak mid-morning, …);
/// durations are lognormal; the waste-collection contractor slowly slips. With
/// `--speed N`, simulated time runs N times faster than real time: arrivals are
/// compressed and stamped with the daemon's receive time.
public struct SimulateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Push simulated city traffic (for demos and soak tests).",
        discussion: "Example: vigie simulate --speed 60   # one simulated minute per second"
    )

    @Option(help: "Simulated seconds per real second.")
    var speed: Double = 1

    @Option(help: "Stop after this long in real time (e.g. 10m); default: until interrupted.")
    var duration: String?

    @Option(
        help: "Simulated local start time HH:MM today (default: now in opening hours, else 08:00 on the next weekday)."
    )
    var start: String?

    @Option(
        help: """
            Backfill: simulate this much of the past (e.g. 30d) as fast as the daemon \
            acknowledges, each sample stamped with its simulated time, then stop. Fills history \
            (vigie history) with a month of believable data in a few minutes.
            """
    )
    var backfill: String?

    @Option(help: "Time zone of the simulated city.")
    var timezone: String = "Pacific/Noumea"

    @Option(help: "Random seed, for reproducible traffic.")
    var seed: UInt64?

    @Flag(help: "Print each batch's acknowledgment.")
    var verbose = false

    @OptionGroup var endpoints: EndpointOptions

    public init() {}

    public func run() throws {
        guard speed > 0, speed <= 100_000 else { throw ValidationError("--speed must be in (0, 100000]") }
        guard let zone = TimeZone(identifier: timezone) else {
            throw ValidationError("unknown time zone '\(timezone)'")
        }
        var stopAt = UInt64.max
        if let duration {
            guard let ns = DurationFormat.parse(duration) else {
                throw ValidationError("--duration '\(duration)' is not a duration such as 10m")
            }
            stopAt = monotonicNanoseconds() + UInt64(ns)
        }
        var city = CitySimulation(seed: seed ?? UInt64.random(in: 1...UInt64.max), timeZone: zone)
        city.simTime = try startTime(zone: zone)
        if let backfill {
            guard let ns = DurationFormat.parse(backfill), ns > 0 else {
                throw ValidationError("--backfill '\(backfill)' is not a duration such as 30d")
            }
            city.simTime = Date().addingTimeInterval(-Double(ns) / 1e9)
        }

        let context = try ZMQContext(defaultLinger: 0)
        defer {
            context.shutdown()
            try? context.terminate()
        }
        let producer = IngestClient.oneShotProducerID("simulate")
        let client = try IngestClient(
            context: context,
            endpoint: try endpoints.resolved().ingest,
            producer: producer,
            curve: try endpoints.curve()
        )
        defer { client.close() }
        var sequence: UInt64 = 0
        var totals = (accepted: 0, rejected: 0)
        if backfill != nil {
            return try runBackfill(city: &city, client: client, stopAt: stopAt)
        }
        let tick = 0.2
        print("simulating from \(city.clockText) local time at \(speed)× — Ctrl-C to stop")
        var unreachableSince: UInt64?
        while monotonicNanoseconds() < stopAt {
            let tickStart = monotonicNanoseconds()
            let lines = city.step(seconds: tick * speed)
            if !lines.isEmpty {
                sequence += 1
                let payload = Array(lines.joined().utf8)
                if try client.send(sequence: sequence, payloads: [payload], timeoutMilliseconds: 1_000),
                    case .ack(_, let ack)? = try client.receive(timeoutMilliseconds: 2_000)
                {
                    totals.accepted += ack.accepted
                    totals.rejected += ack.rejected
                    if unreachableSince != nil {
                        print("vigied reachable again")
                        unreachableSince = nil
                    }
                    if verbose {
                        print("\(city.clockText) batch \(sequence): \(ack.accepted) accepted, \(ack.rejected) rejected")
                    }
                    for error in ack.errors {
                        FileHandle.standardError.write(
                            Data("simulate: line \(error.line):\(error.column): \(error.reason)\n".utf8)
                        )
                    }
                } else if unreachableSince == nil {
                    unreachableSince = monotonicNanoseconds()
                    FileHandle.standardError.write(
                        Data("simulate: vigied not acknowledging; batches of this period are dropped\n".utf8)
                    )
                }
            }
            let spent = monotonicNanoseconds() - tickStart
            let budget = UInt64(tick * 1e9)
            if spent < budget { usleep(UInt32((budget - spent) / 1_000)) }
        }
        print("simulated until \(city.clockText): \(totals.accepted) accepted, \(totals.rejected) rejected")
    }

    /// Simulates from `city.simTime` up to now in steps of one simulated minute, every
    /// line stamped with a time inside its minute, as fast as acknowledgments come
    /// (pipelined, 32 batches in flight).
    private func runBackfill(city: inout CitySimulation, client: IngestClient, stopAt: UInt64) throws {
        let end = Date()
        print("backfilling from \(city.simTime) to \(end)")
        var rng = SystemRandomNumberGenerator()
        var sequence: UInt64 = 0
        var inFlight = 0
        var accepted = 0
        var rejected = 0
        func collect(timeout: Int) throws {
            guard case .ack(_, let ack)? = try client.receive(timeoutMilliseconds: timeout) else {
                throw ValidationError("vigied did not acknowledge within \(timeout) ms: backfill stopped")
            }
            inFlight -= 1
            accepted += ack.accepted
            rejected += ack.rejected
        }
        while city.simTime < end, monotonicNanoseconds() < stopAt {
            let minuteStart = Int64(city.simTime.timeIntervalSince1970 * 1e9)
            let lines = city.step(seconds: 60)
            guard !lines.isEmpty else { continue }
            var payload = ""
            for line in lines {
                let ts = minuteStart + Int64.random(in: 0..<60_000_000_000, using: &rng)
                payload += line.dropLast() + " \(ts)\n"
            }
            sequence += 1
            guard try client.send(sequence: sequence, payloads: [Array(payload.utf8)], timeoutMilliseconds: 5_000)
            else {
                throw ValidationError("vigied is not reachable: backfill stopped")
            }
            inFlight += 1
            if inFlight >= 32 { try collect(timeout: 10_000) }
            if sequence % 5_000 == 0 { print("\(city.simTime) … \(accepted) accepted") }
        }
        while inFlight > 0 { try collect(timeout: 10_000) }
        print("backfilled until \(city.simTime): \(accepted) accepted, \(rejected) rejected")
    }

    private func startTime(zone: TimeZone) throws -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let now = Date()
        if let start {
            let parts = start.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 2, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]) else {
                throw ValidationError("--start '\(start)' must be HH:MM")
            }
            return calendar.date(bySettingHour: parts[0], minute: parts[1], second: 0, of: now) ?? now
        }
        let hour = calendar.component(.hour, from: now)
        let weekday = calendar.component(.weekday, from: now)
        if (8..<15).contains(hour), (2...6).contains(weekday) { return now }
        // Outside opening hours the counters are closed: start at 08:00 on the next
        // weekday so that a demo always shows a working day.
        var day = now
        if hour >= 8 || !(2...6).contains(weekday) {
            day = calendar.date(byAdding: .day, value: 1, to: now) ?? now
        }
        while !(2...6).contains(calendar.component(.weekday, from: day)) {
            day = calendar.date(byAdding: .day, value: 1, to: day) ?? day
        }
        return calendar.date(bySettingHour: 8, minute: 0, second: 0, of: day) ?? day
    }
}

/// The simulated city: streams of events with daily profiles. Pure given its seed.
struct CitySimulation {
    var rng: SeededGenerator
    var calendar: Calendar
    var simTime = Date()
    /// Hours the run has simulated; drives the contractor's slow slip.
    private(set) var elapsedHours = 0.0
    private var accumulators: [String: Double] = [:]

    init(seed: UInt64, timeZone: TimeZone) {
        rng = SeededGenerator(seed: seed)
        calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
    }

    var clockText: String {
        let c = calendar.dateComponents([.hour, .minute], from: simTime)
        return String(format: "%02d:%02d", c.hour ?? 0, c.minute ?? 0)
    }

    /// Local time of day in hours (7.5 = 07:30) and whether it is a weekday.
    private var localHour: (hour: Double, weekday: Bool) {
        let c = calendar.dateComponents([.hour, .minute, .second, .weekday], from: simTime)
        let h = Double(c.hour ?? 0) + Double(c.minute ?? 0) / 60 + Double(c.second ?? 0) / 3600
        return (h, (2...6).contains(c.weekday ?? 2))
    }

    /// Advances simulated time by `seconds` and returns the lines of what happened.
    mutating func step(seconds: Double) -> [String] {
        let (hour, weekday) = localHour
        simTime += seconds
        elapsedHours += seconds / 3600
        var lines: [String] = []
        let counterOpen = weekday && hour >= 7.5 && hour < 15.5
        // Counter visits: busy mid-morning, ~40 visitors/hour/site at peak.
        let counterProfile = counterOpen ? 0.5 + 0.5 * bell(hour, center: 10, width: 1.5) : 0
        for (site, slowness) in [("centre", 1.0), ("nord", 1.35), ("sud", 0.9)] {
            for _ in 0..<events(perHour: 40 * counterProfile, seconds: seconds) {
                let wait = lognormal(median: 9 * slowness * (0.7 + counterProfile), sigma: 0.55)
                lines.append("guichet_attente,service=etat-civil,site=\(site) value=\(round1(wait))\n")
            }
        }
        for _ in 0..<events(perHour: 12 * counterProfile, seconds: seconds) {
            let wait = lognormal(median: 14 * (0.7 + counterProfile), sigma: 0.5)
            lines.append("guichet_attente,service=urbanisme,site=centre value=\(round1(wait))\n")
        }
        // Phone calls to the reception: answer rate drops at the peak.
        let phoneProfile = weekday && hour >= 7 && hour < 17 ? 0.3 + 0.7 * bell(hour, center: 9.5, width: 2) : 0.02
        for _ in 0..<events(perHour: 120 * phoneProfile, seconds: seconds) {
            let answered = uniform() < 0.93 - 0.15 * phoneProfile ? 1 : 0
            lines.append("appels,service=accueil recu=1i,decroche=\(answered)i\n")
        }
        // Resident requests closed (days to close).
        let channels = ["web", "web", "telephone", "guichet"]
        for (category, median) in [("voirie", 3.5), ("proprete", 2.0), ("eclairage", 2.5), ("espaces-verts", 4.0)] {
            for _ in 0..<events(perHour: weekday ? 6 : 1, seconds: seconds) {
                let channel = channels[Int(rng.next() % UInt64(channels.count))]
                let days = round1(lognormal(median: median, sigma: 0.6))
                lines.append("demandes,categorie=\(category),canal=\(channel) delai_jours=\(days)\n")
            }
        }
        // Waste collection contractor: rounds report through the day, slipping over time.
        let slip = min(0.25, elapsedHours * 0.01)
        for sector in ["nord", "sud", "est", "ouest"] where hour >= 5 && hour < 13 {
            for _ in 0..<events(perHour: 2, seconds: seconds) {
                let done = uniform() < 0.97 - slip ? 1 : 0
                let delay = round1(lognormal(median: 10 + 120 * slip, sigma: 0.7))
                let missed = poisson(mean: 1 + 20 * slip)
                lines.append(
                    "collecte,prestataire=verdure-sa,secteur=\(sector) tournees_prevues=1i,tournees_realisees=\(done)i,"
                        + "retard_min=\(delay),bacs_oublies=\(missed)i\n"
                )
            }
        }
        // Street-light repairs (hours from report to repair).
        for district in ["centre", "magenta", "vallee-du-tir", "ouemo"] {
            for _ in 0..<events(perHour: 0.5, seconds: seconds) {
                lines.append("eclairage,quartier=\(district) delai_h=\(round1(lognormal(median: 30, sigma: 0.6)))\n")
            }
        }
        // Pools: entries while open, water temperature every 5 minutes.
        let poolOpen = hour >= 6 && hour < 19
        for site in ["aquatique", "plein-air"] {
            if poolOpen {
                for _ in 0..<events(perHour: 60 * (0.4 + 0.6 * bell(hour, center: 16, width: 2)), seconds: seconds) {
                    lines.append("piscine,site=\(site) entrees=1i\n")
                }
            }
            for _ in 0..<events(perHour: 12, seconds: seconds, regular: "temp-\(site)") {
                lines.append("piscine,site=\(site) temperature=\(round1(27.2 + 0.8 * gaussian()))\n")
            }
        }
        // Supplier payments (days from invoice to payment).
        for direction in ["finances", "technique", "education", "culture"] {
            for _ in 0..<events(perHour: weekday && hour >= 7 && hour < 16 ? 3 : 0, seconds: seconds) {
                lines.append(
                    "paiement_fournisseur,direction=\(direction) delai_jours=\(round1(lognormal(median: 24, sigma: 0.35)))\n"
                )
            }
        }
        // Online services probed every 30 simulated seconds.
        // The payment service has an outage of 45 simulated minutes every 2 simulated
        // hours, starting 18 minutes in: at --speed 60 an alert fires and resolves in
        // the first minutes of a demo.
        let cycle = elapsedHours.truncatingRemainder(dividingBy: 2)
        let paymentDown = cycle >= 0.3 && cycle < 1.05
        for service in ["etat-civil", "paiement", "inscriptions"] {
            for _ in 0..<events(perHour: 120, seconds: seconds, regular: "probe-\(service)") {
                let up = service == "paiement" && paymentDown ? 0 : uniform() < 0.995 ? 1 : 0
                lines.append(
                    "service_en_ligne,service=\(service) up=\(up)i,latence_ms=\(round1(lognormal(median: 180, sigma: 0.4)))\n"
                )
            }
        }
        // The day's état civil appointments, recounted every 5 simulated minutes by each
        // site's agent (config/agent.toml's exec collector): no randomness, so the other
        // streams stay as they were for a given seed.
        for (site, booked) in [("centre", 24), ("nord", 15), ("sud", 12)] {
            for _ in 0..<events(perHour: 12, seconds: seconds, regular: "rdv-\(site)") {
                let prevus = weekday ? booked : 0
                let honores = Int(Double(prevus) * min(1, max(0, (hour - 8) / 8)))
                lines.append("etat_civil_rdv,type=total,site=\(site) prevus=\(prevus)i,honores=\(honores)i\n")
            }
        }
        return lines
    }

    // MARK: - Random helpers

    /// Events in `seconds` for a Poisson process of `perHour`, or a regular one when `regular` names it.
    private mutating func events(perHour: Double, seconds: Double, regular: String? = nil) -> Int {
        let mean = perHour * seconds / 3600
        guard let regular else { return poisson(mean: mean) }
        let total = (accumulators[regular] ?? 0) + mean
        let whole = Int(total)
        accumulators[regular] = total - Double(whole)
        return whole
    }

    private mutating func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }

    private mutating func gaussian() -> Double {
        let u1 = max(uniform(), 1e-12)
        let u2 = uniform()
        return (-2 * Foundation.log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    private mutating func lognormal(median: Double, sigma: Double) -> Double {
        median * exp(sigma * gaussian())
    }

    private mutating func poisson(mean: Double) -> Int {
        guard mean > 0 else { return 0 }
        if mean > 30 { return max(0, Int((mean + mean.squareRoot() * gaussian()).rounded())) }
        let limit = exp(-mean)
        var k = 0
        var p = uniform()
        while p > limit {
            k += 1
            p *= uniform()
        }
        return k
    }

    private func bell(_ x: Double, center: Double, width: Double) -> Double {
        exp(-((x - center) * (x - center)) / (2 * width * width))
    }

    private func round1(_ v: Double) -> String { String(format: "%.1f", v) }
}

/// SplitMix64: small, fast, reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
