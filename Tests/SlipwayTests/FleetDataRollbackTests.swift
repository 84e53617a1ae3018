import Foundation
import GRDB
import SlipwayClient
import SlipwayCore
import SlipwayHTTP
import Testing

/// `slipway rollback --with-data` on a fleet whose hosts share one database (`fleet.data: once`; here an SQLite file
/// every namespace host sees): the data host restores the backup taken before the deploy being undone while the other
/// host holds its requests, then both serve the release from before, with the data from before it.
@Suite(.serialized)
struct FleetDataRollbackTests {
    @Test(.timeLimit(.minutes(3)), .enabled(if: FleetLab.canRun, Comment(rawValue: FleetLab.skipNote)))
    func aFleetRollsBackCodeAndTheDataItShares() async throws {
        try await FleetLab.with(2) { lab in
            let path = lab.dir + "/shop.db"
            let db = try DatabaseQueue(path: path)
            try await db.write { try $0.execute(sql: "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)") }
            func rows() async throws -> Int { try await db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM t") ?? -1 } }
            try lab.writeApp(port: 18_080, fleet: "{ strategy: rolling, batch: 1, healthy_deadline: 30s, data: once }", top: """
                backup:
                  sources: [{ name: db, sqlite: \(path) }]
                  stores: [{ local: backups }]
                  before_deploy: true
                """)
            #expect(try await lab.deploy("v1").status == 0)
            try await db.write { try $0.execute(sql: "INSERT INTO t VALUES (4), (5)") }
            let second = try await lab.deploy("v2")
            #expect(second.status == 0 && second.text.contains("h1: the data steps (backup, migrations) run here, once"), "\(second.text)")
            // Life under v2, which rolling back with data throws away.
            try await db.write { try $0.execute(sql: "INSERT INTO t VALUES (6), (7)") }
            #expect(try await rows() == 7)

            let refused = try await lab.cli(["rollback", "--with-data"])
            #expect(refused.status == 2 && refused.text.contains("pass --yes to confirm") && refused.text.contains("t 5 → 7 rows"), "\(refused.text)")
            #expect(try await rows() == 7, "not confirmed: nothing changed")

            let back = try await lab.cli(["rollback", "--with-data", "--yes", "--json"])
            #expect(back.status == 0 && back.text.contains("hold their requests") && back.text.contains("with the data from before the deploy it undid"), "\(back.text)")
            #expect(try await rows() == 5, "the backup taken before v2's deploy, restored once")
            let status = try await lab.cli(["fleet", "status", "--json"])
            #expect(status.text.components(separatedBy: "\"current\" : \"v1\"").count - 1 == 2, "\(status.text)")
            // The hold on h2 was lifted: it answers, from v1.
            let answer = try await MiniHTTPClient().request("GET", .tcp(host: lab.hosts[1].address, port: 18_080), path: "/", timeout: .seconds(5))
            #expect(answer.status == 200 && answer.bodyText.contains("demo-app v1"), "\(answer.status) \(answer.bodyText)")

            // A controller killed in the middle would leave h2 holding: the next fleet operation lifts such a hold.
            let h2 = DaemonClient(socket: "\(lab.dir)/h2/root/apps/shop/state/slipway.sock")
            let _: MaintenanceMode? = try? await h2.post("/v1/maintenance", MaintenanceRequest(environment: "production", action: .pause,
                                                                                                message: HostStatus.fleetHoldPrefix + "fd-1-dead", limit: "30s", actor: "t"))
            let held = try await lab.cli(["fleet", "status", "--json"])
            #expect(held.status == 0, "\(held.text)")
            let next = try await lab.deploy("v3")
            #expect(next.status == 0 && next.text.contains("lifting the hold left by fd-1-dead on h2"), "\(next.text)")
            let after = try await MiniHTTPClient().request("GET", .tcp(host: lab.hosts[1].address, port: 18_080), path: "/", timeout: .seconds(5))
            #expect(after.status == 200 && after.bodyText.contains("demo-app v3"), "\(after.status) \(after.bodyText)")
        }
    }
}
