import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The event log: deployment transitions, instances, backups, drills, maintenance, locks, router restarts, config reloads.",
        discussion: """
            Without --since, the last --limit events. --since ID prints the events after that id (the id of the \
            last event you saw: resume there after a restart, with no gap and no duplicate); --since TIME (ISO 8601, \
            like 2026-11-26T10:00:00Z) or AGE (like 10m or 2h) prints those from then on. --follow keeps printing \
            new events as they happen until interrupted, and waits out a daemon restart. --json prints one JSON \
            object per line.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this environment's events") var env: String?
    @Option(help: "An event id, an ISO 8601 time, or an age like 10m") var since: String?
    @Flag(help: "Keep printing new events until interrupted") var follow = false
    @Flag(help: "One JSON object per line") var json = false
    @Option(help: "Without --since: how many of the latest events") var limit = 50

    enum Start: Equatable { case tail, after(Int64), time(Date) }

    /// What `--since` says, or a usage error naming the flag.
    static func start(_ text: String?, now: Date = Date()) throws -> Start {
        guard let text else { return .tail }
        if let id = Int64(text), id >= 0 { return .after(id) }
        if let date = (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text)) {
            return .time(date)
        }
        if let age = DurationParsing.parse(text) { return .time(now.addingTimeInterval(-age.seconds)) }
        throw ValidationError("--since: expected an event id (like 42), an ISO 8601 time (like 2026-11-26T10:00:00Z) or an age (like 10m), got '\(text)'")
    }

    func validate() throws {
        _ = try Self.start(since)
        guard (1...1000).contains(limit) else { throw ValidationError("--limit: expected 1 to 1000, got \(limit)") }
    }

    func run() async throws {
        let json = self.json
        if try await FleetCommand.events(global, env, start: try Self.start(since), follow: follow, limit: limit, emit: { Self.emit($0, json: json) }) { return }
        let client = try global.client()
        var query: [String] = env.map { ["env=\($0)"] } ?? []
        switch try Self.start(since) {
        case .tail: query.append("limit=\(limit)")
        case .after(let id): query.append(contentsOf: ["since=\(id)", "limit=1000"])
        case .time(let date): query.append(contentsOf: ["since_time=\(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))", "limit=1000"])
        }
        var page: EventPage = try await client.get("/v1/events?" + query.joined(separator: "&"))
        var next = page.next
        while true {
            for e in page.events { emit(e) }
            let base = (env.map { ["env=\($0)"] } ?? []) + ["since=\(next)", "limit=1000"]
            if page.events.count < 1000 {
                guard follow else { return }
                page = try await waitForMore(client, base + ["wait_ms=25000"])
            } else {
                page = try await client.get("/v1/events?" + base.joined(separator: "&"))
            }
            next = max(next, page.next)
        }
    }

    /// The next page when it comes; a daemon that is away (restarting) is waited for.
    func waitForMore(_ client: DaemonClient, _ query: [String]) async throws -> EventPage {
        var warned = false
        while true {
            let result: Result<EventPage, SlipwayError>
            do { result = .success(try await client.get("/v1/events?" + query.joined(separator: "&"))) } catch { result = .failure(error) }
            switch result {
            case .success(let page): return page
            case .failure(let error) where error.code == .unavailable:
                if !warned { FileHandle.standardError.write(Data("slipway events: the daemon is not answering; waiting for it\n".utf8)) }
                warned = true
                try await Task.sleep(for: .seconds(1))
            case .failure(let error): throw error
            }
        }
    }

    func emit(_ e: Event) { Self.emit(e, json: json) }

    static func emit(_ e: Event, json: Bool) {
        let line: String
        if json {
            line = Output.line(e)
        } else {
            let deployment = e.deploymentId.map { " #\($0)" } ?? ""
            line = "\(e.id)  \(Output.time(e.time))  \(e.environment ?? "-")\(deployment)  \(e.type)  \(e.summary)"
        }
        // Written at once: a reader on a pipe sees each event as it happens.
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
