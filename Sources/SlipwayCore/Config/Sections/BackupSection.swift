import Foundation
import Yams

/// `backup:` (sources, stores, schedules, retention, verify, drills) and `migrate:`.
enum BackupSection {
    static let backupKeys = ["sources", "stores", "before_deploy", "before_rollback", "schedule", "timezone", "retention",
                             "encryption_key_secret", "verify", "drill", "rto_target", "rpo_target", "continuous"]

    /// Parses `backup:`; relative paths are relative to `root`.
    static func backup(_ node: Node, root: String, environment: String, reader: ConfigReader) -> BackupSettings? {
        guard let entries = reader.mapping(node, "backup", allowed: backupKeys) else { return nil }
        var settings = BackupSettings(sources: [], stores: [])
        var scheduleNode: Node?, verifyScheduleNode: Node?, drillScheduleNode: Node?
        for e in entries {
            let path = "backup.\(e.key)"
            switch e.key {
            case "sources": settings.sources = sources(e.value, root: root, environment: environment, reader: reader)
            case "stores": settings.stores = stores(e.value, root: root, reader: reader)
            case "before_deploy": settings.beforeDeploy = reader.bool(e.value, path) ?? false
            case "before_rollback": settings.beforeRollback = reader.bool(e.value, path) ?? false
            case "schedule": scheduleNode = e.value
            case "timezone":
                if let s = reader.string(e.value, path) {
                    if let tz = TimeZone(identifier: s) { settings.timezone = tz }
                    else { reader.problem(e.value, path, "expected an IANA time zone like Europe/Berlin or UTC, got '\(s)'") }
                }
            case "retention": settings.retention = retention(e.value, reader: reader) ?? settings.retention
            case "encryption_key_secret": settings.encryptionKeySecret = reader.secretName(e.value, path)
            case "verify":
                guard let v = reader.mapping(e.value, path, allowed: ["schedule", "restore_test"]) else { continue }
                for ve in v {
                    if ve.key == "schedule" { verifyScheduleNode = ve.value }
                    else { settings.verify.restoreTest = reader.bool(ve.value, "backup.verify.restore_test") ?? false }
                }
            case "drill":
                guard let v = reader.mapping(e.value, path, allowed: ["schedule"]) else { continue }
                drillScheduleNode = v.first?.value
            case "rto_target": settings.rtoTarget = reader.duration(e.value, path)
            case "continuous": settings.continuous = continuous(e.value, reader: reader)
            default: settings.rpoTarget = reader.duration(e.value, path)
            }
        }
        settings.schedule = scheduleNode.flatMap { reader.cron($0, "backup.schedule") }
        settings.verify.schedule = verifyScheduleNode.flatMap { reader.cron($0, "backup.verify.schedule") }
        settings.drillSchedule = drillScheduleNode.flatMap { reader.cron($0, "backup.drill.schedule") }
        if settings.sources.isEmpty, entries.first(where: { $0.key == "sources" }) == nil {
            reader.problem(node, "backup.sources", "missing required key (a list of what to back up: sqlite, postgres, mysql or directory)")
        }
        if settings.stores.isEmpty, entries.first(where: { $0.key == "stores" }) == nil {
            reader.problem(node, "backup.stores", "missing required key (a list of where to keep backups: local or s3)")
        }
        return settings
    }

    static func sources(_ node: Node, root: String, environment: String, reader: ConfigReader) -> [BackupSourceConfig] {
        guard case .sequence(let seq) = node else {
            reader.problem(node, "backup.sources", "expected a list of sources, got \(reader.describe(node))")
            return []
        }
        var out: [BackupSourceConfig] = []
        for (i, item) in seq.enumerated() {
            let path = "backup.sources[\(i)]"
            guard let entries = reader.mapping(item, path, allowed: ["name", "sqlite", "postgres", "mysql", "directory", "continuous"]) else { continue }
            var name: String?
            var continuous: Bool?
            var kinds: [BackupSourceConfig.Kind] = []
            for e in entries {
                let p = "\(path).\(e.key)"
                switch e.key {
                case "name":
                    if let s = reader.string(e.value, p) {
                        if ReleaseVersion.isSimpleName(s) { name = s } else { reader.problem(e.value, p, "expected a name of a-z, 0-9 and '-', got '\(s)'") }
                    }
                case "continuous":
                    continuous = reader.bool(e.value, p)
                case "sqlite", "directory":
                    if let s = reader.string(e.value, p) {
                        let abs = ConfigReader.absolute(s, root: root, environment: environment)
                        kinds.append(e.key == "sqlite" ? .sqlite(path: abs) : .directory(path: abs))
                    }
                default:
                    guard let db = reader.mapping(e.value, p, allowed: ["url_secret"]) else { continue }
                    guard let secret = db.first(where: { $0.key == "url_secret" }) else {
                        reader.problem(e.value, "\(p).url_secret", "missing required key (the name of the secret holding the connection URL)")
                        continue
                    }
                    if let s = reader.secretName(secret.value, "\(p).url_secret") {
                        kinds.append(e.key == "postgres" ? .postgres(urlSecret: s) : .mysql(urlSecret: s))
                    }
                }
            }
            if name == nil, entries.first(where: { $0.key == "name" }) == nil { reader.problem(item, "\(path).name", "missing required key") }
            if continuous == true, let kind = kinds.first, kind.name != "sqlite", kind.name != "postgres" {
                reader.problem(item, "\(path).continuous", "continuous archiving is for sqlite and postgres sources (\(kind.name) has none yet)")
            }
            if entries.filter({ $0.key != "name" && $0.key != "continuous" }).count != 1 {
                reader.problem(item, path, "expected exactly one of sqlite, postgres, mysql or directory")
            }
            if let name, kinds.count == 1 {
                if out.contains(where: { $0.name == name }) { reader.problem(item, "\(path).name", "duplicate source name '\(name)'") }
                out.append(BackupSourceConfig(name: name, kind: kinds[0], continuous: continuous))
            }
        }
        return out
    }

    static func stores(_ node: Node, root: String, reader: ConfigReader) -> [BackupStoreConfig] {
        guard case .sequence(let seq) = node else {
            reader.problem(node, "backup.stores", "expected a list of stores, got \(reader.describe(node))")
            return []
        }
        var out: [BackupStoreConfig] = []
        for (i, item) in seq.enumerated() {
            let path = "backup.stores[\(i)]"
            guard let entries = reader.mapping(item, path, allowed: ["local", "s3"]) else { continue }
            guard entries.count == 1, let e = entries.first else {
                reader.problem(item, path, "expected exactly one of local or s3")
                continue
            }
            if e.key == "local" {
                if let s = reader.string(e.value, "\(path).local") { out.append(.local(path: ConfigReader.absolute(s, root: root))) }
            } else if let s3 = s3(e.value, "\(path).s3", reader: reader) {
                out.append(.s3(s3))
            }
        }
        return out
    }

    static func s3(_ node: Node, _ path: String, reader: ConfigReader) -> S3StoreConfig? {
        let keys = ["bucket", "endpoint", "region", "prefix", "access_key_secret", "secret_key_secret", "path_style"]
        guard let entries = reader.mapping(node, path, allowed: keys) else { return nil }
        func value(_ k: String) -> Node? { entries.first { $0.key == k }?.value }
        let before = reader.problems.count
        for required in ["bucket", "access_key_secret", "secret_key_secret"] where value(required) == nil {
            reader.problem(node, "\(path).\(required)", "missing required key")
        }
        let bucket = value("bucket").flatMap { reader.string($0, "\(path).bucket") } ?? ""
        var endpoint: String?
        if let n = value("endpoint"), let s = reader.string(n, "\(path).endpoint") {
            if let u = URL(string: s), ["http", "https"].contains(u.scheme ?? ""), u.host != nil { endpoint = s.hasSuffix("/") ? String(s.dropLast()) : s }
            else { reader.problem(n, "\(path).endpoint", "expected an http(s) URL like https://s3.example.com, got '\(s)'") }
        }
        let region = value("region").flatMap { reader.string($0, "\(path).region") } ?? "us-east-1"
        var prefix = value("prefix").flatMap { reader.string($0, "\(path).prefix") } ?? ""
        if !prefix.isEmpty, !prefix.hasSuffix("/") { prefix += "/" }
        let access = value("access_key_secret").flatMap { reader.secretName($0, "\(path).access_key_secret") }
        let secret = value("secret_key_secret").flatMap { reader.secretName($0, "\(path).secret_key_secret") }
        let pathStyle = value("path_style").flatMap { reader.bool($0, "\(path).path_style") } ?? (endpoint != nil)
        guard reader.problems.count == before, let access, let secret else { return nil }
        return S3StoreConfig(bucket: bucket, endpoint: endpoint, region: region, prefix: prefix,
                             accessKeySecret: access, secretKeySecret: secret, pathStyle: pathStyle)
    }

    /// `continuous: true | false | { max_lag: 1s, snapshot_every: 24h, keep: 7d }`.
    static func continuous(_ node: Node, reader: ConfigReader) -> ContinuousSettings? {
        if case .scalar = node { return reader.bool(node, "backup.continuous") == true ? ContinuousSettings() : nil }
        guard let entries = reader.mapping(node, "backup.continuous", allowed: ["max_lag", "snapshot_every", "keep"]) else { return nil }
        var c = ContinuousSettings()
        for e in entries {
            let path = "backup.continuous.\(e.key)"
            guard let d = reader.duration(e.value, path) else { continue }
            switch e.key {
            case "max_lag":
                if d < .milliseconds(100) || d > .seconds(3600) { reader.problem(e.value, path, "expected a duration from 100ms to 1h") } else { c.maxLag = d }
            case "keep":
                if d < .seconds(60) { reader.problem(e.value, path, "expected a duration of at least 1m") } else { c.keep = d }
            default:
                if d < .seconds(60) { reader.problem(e.value, path, "expected a duration of at least 1m") } else { c.snapshotEvery = d }
            }
        }
        if let keep = c.keep, keep < c.snapshotEvery, let node = entries.first(where: { $0.key == "keep" })?.value {
            reader.problem(node, "backup.continuous.keep", "expected at least snapshot_every (\(c.snapshotEvery)): the archive keeps whole generations")
        }
        return c
    }

    static func retention(_ node: Node, reader: ConfigReader) -> RetentionPolicy? {
        let keys = ["keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly"]
        guard let entries = reader.mapping(node, "backup.retention", allowed: keys) else { return nil }
        var r = RetentionPolicy(keepLast: 0)
        for e in entries {
            let n = reader.int(e.value, "backup.retention.\(e.key)", min: 0, max: 100_000) ?? 0
            switch e.key {
            case "keep_last": r.keepLast = n
            case "keep_hourly": r.keepHourly = n
            case "keep_daily": r.keepDaily = n
            case "keep_weekly": r.keepWeekly = n
            case "keep_monthly": r.keepMonthly = n
            default: r.keepYearly = n
            }
        }
        if r.keepLast + r.keepHourly + r.keepDaily + r.keepWeekly + r.keepMonthly + r.keepYearly == 0 {
            reader.problem(node, "backup.retention", "keeps nothing; set keep_last or a calendar rule (keep_daily, keep_weekly, …) above 0")
        }
        return r
    }

    static func migrate(_ node: Node, reader: ConfigReader) -> MigrateSettings? {
        guard let entries = reader.mapping(node, "migrate", allowed: ["up", "down", "dry_run", "timeout", "on_failure"]) else { return nil }
        var m = MigrateSettings(up: "")
        for e in entries {
            let path = "migrate.\(e.key)"
            if e.key == "timeout" { m.timeout = reader.duration(e.value, path) ?? m.timeout; continue }
            if e.key == "on_failure" {
                if let s = reader.string(e.value, path) {
                    if let f = MigrateSettings.OnFailure(rawValue: s) { m.onFailure = f }
                    else { reader.problem(e.value, path, "expected one of: down, restore, keep; got '\(s)'") }
                }
                continue
            }
            guard let s = reader.command(e.value, path) else { continue }
            switch e.key {
            case "up": m.up = s
            case "down": m.down = s
            default: m.dryRun = s
            }
        }
        if m.up.isEmpty, entries.first(where: { $0.key == "up" }) == nil {
            reader.problem(node, "migrate.up", "missing required key (the command that migrates the database, run in the new release's directory)")
        }
        return m
    }
}
