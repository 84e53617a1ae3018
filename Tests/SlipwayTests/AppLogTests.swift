import Foundation
import SlipwayClient
import SlipwayCore
@testable import SlipwayEngine
import SlipwayServer
import Testing

/// `slipway logs --app`: the instances' own output, tagged, then only what came since; old log files go.
@Suite(.serialized)
struct AppLogTests {
    @Test(.timeLimit(.minutes(1)))
    func theInstancesOutputIsTaggedAndFollowedByCursor() async throws {
        let s = try Sandbox()
        try await s.withDaemon { daemon in
            _ = try await s.release("v1")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let shown = try await poll(within: .seconds(5)) { () async throws -> String? in
                let r = try await s.cli(["logs", "--app"])
                return r.text.contains("[v1#0] demo-app v1 listening") && r.text.contains("[v1#1] demo-app v1 listening") ? r.text : nil
            }
            #expect(!shown.isEmpty)
            let first: AppLogPage = try await s.client.get("/v1/logs/app")
            // What an instance writes next, and nothing else, comes with the cursor; half a line waits for its end.
            let log = try #require(try await s.status().instances.first { $0.slot == 0 }).logFile
            let handle = try #require(FileHandle(forWritingAtPath: log))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("order 42 paid\nhalf a li".utf8))
            let next: AppLogPage = try await s.client.get("/v1/logs/app?cursor=\(first.cursor)")
            #expect(next.lines == [AppLogPage.Line(release: "v1", slot: 0, text: "order 42 paid", type: "web")], "\(next.lines)")
            try handle.write(contentsOf: Data("ne\n".utf8))
            try handle.close()
            let rest: AppLogPage = try await s.client.get("/v1/logs/app?cursor=\(next.cursor)")
            #expect(rest.lines.map(\.text) == ["half a line"], "\(rest.lines)")
            // Rotated (copy-truncate): the shorter file is read from its start.
            truncate(log, 0)
            try "after rotation\n".write(toFile: log, atomically: false, encoding: .utf8)
            let rotated: AppLogPage = try await s.client.get("/v1/logs/app?cursor=\(rest.cursor)")
            #expect(rotated.lines.map(\.text) == ["after rotation"], "\(rotated.lines)")
            let bad = try await s.cli(["logs", "--app", "--release", "v1", "7"])
            #expect(bad.status == 2 && bad.text.contains("give a deployment id, or --app (not both)"), "\(bad)")

            // Retention: a file not written for longer than logs.retention (30 days) is removed; fresh ones stay.
            let old = s.config.logsDirectory + "/deploy-old.log"
            try "old\n".write(toFile: old, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-31 * 86_400)], ofItemAtPath: old)
            // The notifications' log is written all the time: its lines older than the retention go, the rest stay.
            let notifications = s.config.logsDirectory + "/notifications.log"
            let recent = "\(DeployLog.stamp(Date())) webhook-2 deploy.succeeded P3 attempt 1: delivered\n"
            try ("\(DeployLog.stamp(Date().addingTimeInterval(-31 * 86_400))) webhook-1 deploy.succeeded P3 attempt 1: delivered\n" + recent)
                .write(toFile: notifications, atomically: true, encoding: .utf8)
            let removed = daemon.engine.housekeeping.pruneLogs(now: Date())
            #expect(removed == 1 && !FileManager.default.fileExists(atPath: old) && FileManager.default.fileExists(atPath: log))
            #expect(try String(contentsOfFile: notifications, encoding: .utf8) == recent)
        }
    }
}
