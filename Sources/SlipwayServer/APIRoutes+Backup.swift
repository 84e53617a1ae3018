import Foundation
import Hummingbird
import SlipwayCore
import SlipwayEngine

extension APIRoutes {
    /// Backups, restores, retention and migrations. Long operations answer when they are done.
    static func addBackupRoutes(_ v1: RouterGroup<SlipwayRequestContext>, engine: Engine) {
        v1.post("backups") { request, context in
            let body = try await context.attributed(APIResponse.decode(BackupCreateRequest.self, from: request))
            return APIResponse.json(try await engine.backups.create(body), status: .created)
        }
        v1.get("backups") { request, _ in
            APIResponse.json(try engine.backups.list(environment: request.uri.queryParameters.get("env")))
        }
        v1.post("backups/rescan") { request, context in
            let body = try await context.attributed(APIResponse.decode(BackupRescanRequest.self, from: request))
            return APIResponse.json(try await engine.backups.rescan(body))
        }
        v1.post("backups/verify") { request, context in
            let body = try await context.attributed(APIResponse.decode(BackupVerifyRequest.self, from: request))
            return APIResponse.json(try await engine.backups.verify(body))
        }
        v1.post("backups/restore") { request, context in
            let body = try await context.attributed(APIResponse.decode(BackupRestoreRequest.self, from: request))
            return APIResponse.json(try await engine.backups.restore(body))
        }
        v1.post("backups/restore/plan") { request, context in
            let body = try await context.attributed(APIResponse.decode(BackupRestoreRequest.self, from: request))
            return APIResponse.json(try await engine.backups.plan(body))
        }
        v1.get("backups/continuous") { _, _ in APIResponse.json(await engine.continuous.statuses()) }
        v1.post("backups/prune") { request, context in
            let body = try await context.attributed(APIResponse.decode(BackupPruneRequest.self, from: request))
            return APIResponse.json(try await engine.backups.prune(body))
        }
        v1.post("drills") { request, context in
            let body = try await context.attributed(APIResponse.decode(DrillRequest.self, from: request))
            return APIResponse.json(try await engine.backups.drill(body), status: .created)
        }
        v1.get("drills") { request, _ in
            APIResponse.json(try engine.backups.drills(environment: request.uri.queryParameters.get("env")))
        }
        v1.get("rollback/plan") { request, _ in
            let q = request.uri.queryParameters
            return APIResponse.json(try await engine.dataSteps.rollbackPlan(environment: q.get("env"), version: q.get("version")))
        }
        v1.get("migrate/dry-run") { request, _ in
            let q = request.uri.queryParameters
            return APIResponse.json(try await engine.dataSteps.migrateDryRun(environment: q.get("env"), version: q.get("version")))
        }
    }
}
