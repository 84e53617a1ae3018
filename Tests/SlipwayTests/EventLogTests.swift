import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayRuntime
import SlipwayServer
import Testing
@testable import SlipwayStore

/// The event log: strictly increasing ids, in-process subscribers fed without polling, resumable from an id.
@Suite(.serialized)
struct EventLogTests {
    static func note(_ i: Int, env: String = "production") -> Event {
        Event(environment: env, payload: .maintenance(.init(mode: nil, detail: "event \(i)")))
    }

    /// A subscriber that starts in the middle of a burst of writes gets the backlog, then every new
    /// event, each exactly once and in order.
    @Test(.timeLimit(.minutes(1)))
    func aFollowerGetsTheBacklogThenLiveEventsWithNoGapAndNoDuplicate() async throws {
        let store = try SlipwayStore.inMemory()
        for i in 0..<10 { try store.record(Self.note(i)) }
        let writer = Task {
            for i in 10..<400 { try store.record(Self.note(i, env: i % 3 == 0 ? "staging" : "production")) }
        }
        var seen: [Int64] = []
        for try await e in store.follow(after: 3) {
            seen.append(e.id)
            if e.id == 400 { break }
        }
        try await writer.value
        #expect(seen == Array(4...400))
        #expect(store.bus.subscriberCount == 0, "a finished follower unsubscribes")

        // Filtered by environment: only staging's, still in order.
        var staging: [Int64] = []
        for try await e in store.follow(after: 0, environment: "staging") {
            #expect(e.environment == "staging")
            staging.append(e.id)
            if staging.count == 130 { break }
        }
        #expect(staging == staging.sorted() && Set(staging).count == 130)
    }

    /// A follower that lagged behind loses nothing: when the live buffer dropped events (a hole in the
    /// ids), the hole is read back from the store, and live events it already has are skipped.
    @Test(.timeLimit(.minutes(1)))
    func aHoleInTheLiveEventsIsReadBackFromTheStore() async throws {
        let store = try SlipwayStore.inMemory()
        for i in 0..<6 { try store.record(Self.note(i)) }
        let all = try store.events(after: 0)
        // Live delivery as a lagging subscriber sees it: 2, then (3 and 4 dropped) 5, then 6.
        let (live, feed) = AsyncStream<Event>.makeStream()
        for i in [1, 4, 5] { feed.yield(all[i]) }
        feed.finish()
        var iterator = EventFeed.Iterator(store: store, last: 1, environment: nil, live: live.makeAsyncIterator(), catchingUp: false)
        var ids: [Int64] = []
        while let e = try await iterator.next() { ids.append(e.id) }
        #expect(ids == [2, 3, 4, 5, 6])
    }

    /// Retention: old events go, the newest stay whatever their age, ids are not reused, and a reader that
    /// resumes after a pruned id continues with what is left.
    @Test func oldEventsArePrunedButTheNewestStay() throws {
        let store = try SlipwayStore.inMemory()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        for i in 0..<10 {
            var e = Self.note(i)
            e.time = t0.addingTimeInterval(Double(i) * 86_400)
            try store.record(e)
        }
        // Older than day 5, but the newest 3 always stay: ids 1…5 go.
        #expect(try store.pruneEvents(before: t0.addingTimeInterval(5 * 86_400), keepLast: 3) == 5)
        #expect(try store.events(after: 0).map(\.id) == [6, 7, 8, 9, 10])
        #expect(try store.events(after: 2).map(\.id) == [6, 7, 8, 9, 10], "a reader past a pruned id continues")
        #expect(try store.pruneEvents(before: t0.addingTimeInterval(100 * 86_400), keepLast: 3) == 2, "the newest 3 stay however old")
        try store.record(Self.note(10))
        #expect(try store.lastEventId() == 11, "ids are never reused")
    }

    @Test func eventsRoundTripThroughJSONWithTheirType() throws {
        let t = Date(timeIntervalSince1970: 1_790_000_000.25)  // JSON keeps milliseconds
        let events = [
            Event(id: 1, time: t, environment: "production", deploymentId: 7,
                  payload: .deployment(.init(change: .transition, state: .switching, version: "v2", kind: .deploy, detail: "switching"))),
            Event(id: 2, time: t, environment: "production", payload: .instance(.init(change: .crashed, release: "v2", slot: 1, pid: 42, port: 9000, restarts: 2))),
            Event(id: 3, time: t, environment: "staging", payload: .backup(.init(change: .pruned, backupId: "b1", ok: true, detail: "older than 7d"))),
            Event(id: 4, time: t, environment: nil, payload: .router(.init(pid: 9, detail: "restarted"))),
            Event(id: 5, time: t, environment: "production", payload: .lock(.init(change: .takeover, holder: "scale by ann", detail: "stale"))),
        ]
        for e in events {
            let data = try SlipwayJSON.encoder().encode(e)
            let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(json["type"] as? String == e.type)
            #expect(try SlipwayJSON.decoder().decode(Event.self, from: data) == e)
        }
        #expect(events.map(\.type) == ["deployment.transition", "instance.crashed", "backup.pruned", "router.restarted", "lock.takeover"])
    }

    /// `slipway events --follow` in a second terminal shows a deploy's transitions as they happen; after a
    /// daemon restart `--since ID` resumes with no gap and no duplicate, and the follower itself waits out
    /// the restart.
    @Test(.timeLimit(.minutes(3)))
    func theCLIFollowsLiveAndResumesAfterARestart() async throws {
        let s = try Sandbox()
        let out = s.dir + "/events.jsonl"
        func lines() throws -> [Event] {
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            return try text.split(separator: "\n").filter { $0.hasPrefix("{") }.map { try SlipwayJSON.decoder().decode(Event.self, from: Data($0.utf8)) }
        }
        func transitions(_ events: [Event], _ id: Int64) -> [DeploymentState] {
            events.compactMap { if case .deployment(let p) = $0.payload, p.change == .transition, $0.deploymentId == id { p.state } else { nil } }
        }
        try await s.withRestartableDaemon { daemon in
            let follower = try ProcessSpawner.spawn(argv: [TestBinaries.slipway, "events", "--follow", "--json", "--config", s.dir + "/slipway.yml"],
                                                    directory: s.dir, environment: ProcessInfo.processInfo.environment, logFile: out)
            do {
                _ = try await s.release("v1")
                let d1 = try await s.deploy("v1")
                // Live: the follower prints the transitions while the deploy runs, ending with succeeded.
                let live = try await poll(within: .seconds(30)) { () throws -> [Event]? in
                    let e = try lines()
                    return transitions(e, d1.id).last == .succeeded ? e : nil
                }
                #expect(transitions(live, d1.id) == [.pending, .starting, .verifying, .switching, .draining, .succeeded])
                #expect(live.contains { if case .instance(let i) = $0.payload { i.change == .started } else { false } })
                let lastBefore = try #require(live.last?.id)

                // Restart the daemon; what it writes afterwards continues the same log.
                try await daemon.restart(on: s)
                _ = try await s.release("v2")
                let d2 = try await s.outcome(try await s.deploy("v2"))
                #expect(d2.state == .succeeded)

                let resumed = try await cli(["events", "--since", "\(lastBefore)", "--json"], s)
                let ids = resumed.map(\.id)
                #expect(ids.first == lastBefore + 1, "no gap after the id given")
                #expect(ids == Array(ids.first!...ids.last!), "strictly increasing, no gap, no duplicate")
                #expect(transitions(resumed, d2.id).last == .succeeded)
                // From a time: the events from d2's start on, the first of them d2's pending.
                let since = try #require(resumed.first { $0.deploymentId == d2.id }?.time)
                let fromTime = try await cli(["events", "--since", since.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)), "--json"], s)
                #expect(fromTime.first?.deploymentId == d2.id && fromTime.last?.id == ids.last, "\(fromTime.map(\.type))")
                // A --since that is none of id, time or age is a usage error naming the flag (exit 2).
                let bad = s.dir + "/bad-since.out"
                let status = try await ProcessSpawner.run(argv: [TestBinaries.slipway, "events", "--since", "yesterday", "--config", s.dir + "/slipway.yml"],
                                                          directory: s.dir, environment: ProcessInfo.processInfo.environment, logFile: bad)
                #expect(status == 2)
                #expect(try String(contentsOfFile: bad, encoding: .utf8).contains("--since"))
                // The follower waited out the restart and has the same events, once each.
                let followed = try await poll(within: .seconds(30)) { () throws -> [Event]? in
                    let e = try lines()
                    return transitions(e, d2.id).last == .succeeded ? e : nil
                }
                let followedIds = followed.map(\.id)
                #expect(followedIds == Array(followedIds.first!...followedIds.last!), "the follower saw every event once")
            } catch {
                _ = await ProcessGroup.stop(follower.pid, startTime: follower.startTime, timeout: .seconds(2))
                throw error
            }
            _ = await ProcessGroup.stop(follower.pid, startTime: follower.startTime, timeout: .seconds(2))
        }
    }

    /// Runs the real CLI to its end and parses its JSON lines.
    func cli(_ args: [String], _ s: Sandbox) async throws -> [Event] {
        let (status, text) = try await s.cli(args)
        #expect(status == 0, "\(text)")
        return try text.split(separator: "\n").map { try SlipwayJSON.decoder().decode(Event.self, from: Data($0.utf8)) }
    }
}
