import GRDB

/// Append-only, named schema migrations.
enum Schema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-core") { db in
            try db.create(table: "deployments") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("environment", .text).notNull().indexed()
                t.column("version", .text).notNull()
                t.column("previous_version", .text)
                t.column("kind", .text).notNull()
                t.column("strategy", .text).notNull()
                t.column("state", .text).notNull()
                t.column("actor", .text).notNull()
                t.column("started_at", .datetime).notNull()
                t.column("finished_at", .datetime)
                t.column("outcome", .text)
                t.column("message", .text)
                t.column("log_file", .text).notNull()
            }
            try db.create(table: "deployment_events") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("deployment_id", .integer).notNull().indexed().references("deployments", onDelete: .cascade)
                t.column("time", .datetime).notNull()
                t.column("actor", .text).notNull()
                t.column("state", .text).notNull()
                t.column("detail", .text).notNull()
            }
            try db.create(table: "instances") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("environment", .text).notNull().indexed()
                t.column("release", .text).notNull()
                t.column("slot", .integer).notNull()
                t.column("port", .integer).notNull()
                t.column("pid", .integer).notNull()
                t.column("proc_start_time", .integer).notNull()
                t.column("state", .text).notNull()
                t.column("ready", .boolean).notNull()
                t.column("restarts", .integer).notNull()
                t.column("started_at", .datetime).notNull()
                t.column("log_file", .text).notNull()
            }
            try db.create(table: "environments") { t in
                t.primaryKey("name", .text)
                t.column("current_release", .text)
                t.column("previous_release", .text)
                t.column("instances", .integer)
                t.column("standby_until", .datetime)
            }
            try db.create(table: "locks") { t in
                t.primaryKey("environment", .text)
                t.column("holder", .text).notNull()
                t.column("deployment_id", .integer)
                t.column("acquired_at", .datetime).notNull()
                t.column("heartbeat_at", .datetime).notNull()
            }
            try db.create(table: "audit") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .datetime).notNull()
                t.column("actor", .text).notNull()
                t.column("action", .text).notNull()
                t.column("target", .text).notNull()
                t.column("outcome", .text).notNull()
                t.column("detail", .text).notNull()
                t.column("prev_hash", .text).notNull()
                t.column("hash", .text).notNull()
            }
        }
        m.registerMigration("v2-backups") { db in
            try db.create(table: "backups") { t in
                t.primaryKey("id", .text)
                t.column("environment", .text).notNull().indexed()
                t.column("created_at", .datetime).notNull()
                t.column("reason", .text).notNull()
                t.column("deployment_id", .integer)
                t.column("before_deploy_of", .text)
                t.column("manifest", .text).notNull()
                t.column("locations", .text).notNull()
                t.column("verified_at", .datetime)
                t.column("verify_ok", .boolean)
            }
            try db.create(table: "drills") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("environment", .text).notNull().indexed()
                t.column("backup_id", .text).notNull()
                t.column("started_at", .datetime).notNull()
                t.column("ok", .boolean).notNull()
                t.column("report", .text).notNull()
            }
        }
        m.registerMigration("v3-schedules") { db in
            // The last time each scheduled job (backup, verify, drill per environment) was started.
            try db.create(table: "schedule_runs") { t in
                t.primaryKey("job", .text)
                t.column("last_run_at", .datetime).notNull()
            }
        }
        m.registerMigration("v4-maintenance") { db in
            try db.alter(table: "environments") { t in t.add(column: "maintenance", .text) }
        }
        m.registerMigration("v5-events-identity") { db in
            // The event log: strictly increasing ids (AUTOINCREMENT never reuses one), read by subscribers from an id.
            try db.create(table: "events") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .datetime).notNull().indexed()
                t.column("environment", .text)
                t.column("deployment_id", .integer)
                t.column("type", .text).notNull()
                t.column("payload", .text).notNull()
            }
            // The client's claimed actor, beside the OS user the daemon verified.
            try db.alter(table: "deployments") { t in t.add(column: "on_behalf_of", .text) }
            try db.alter(table: "audit") { t in t.add(column: "on_behalf_of", .text) }
        }
        m.registerMigration("v6-rollout") { db in
            // Pool weights while a rollout (rolling, canary) serves several releases at once.
            try db.alter(table: "environments") { t in
                t.add(column: "rollout", .text)
                t.add(column: "watch", .text)
                t.add(column: "bad_releases", .text)
            }
        }
        m.registerMigration("v7-canary") { db in
            // The canary in progress: its step, weights, counters and last analysis (resumed after a restart).
            try db.alter(table: "environments") { t in t.add(column: "canary", .text) }
        }
        m.registerMigration("v8-tokens") { db in
            // API tokens: only a hash of each is kept.
            try db.create(table: "tokens") { t in
                t.primaryKey("id", .text)
                t.column("user", .text).notNull()
                t.column("roles", .text).notNull()
                t.column("hash", .text).notNull().unique()
                t.column("created_at", .datetime).notNull()
                t.column("created_by", .text).notNull()
                t.column("expires_at", .datetime)
                t.column("revoked_at", .datetime)
            }
        }
        m.registerMigration("v9-approvals") { db in
            // Decisions on deploys awaiting approval, bound to the release's digest.
            try db.create(table: "approvals") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("deployment_id", .integer).notNull().indexed()
                t.column("user", .text).notNull()
                t.column("decision", .text).notNull()
                t.column("comment", .text)
                t.column("time", .datetime).notNull()
                t.column("digest", .text).notNull()
            }
        }
        m.registerMigration("v10-webhook-deliveries") { db in
            // Every verified webhook delivery, recorded before it acts: a delivery id or a body seen before is a replay.
            try db.create(table: "webhook_deliveries") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("provider", .text).notNull()
                t.column("delivery_id", .text).notNull()
                t.column("body_digest", .text).notNull()
                t.column("received_at", .datetime).notNull()
                t.uniqueKey(["provider", "delivery_id"])
                t.uniqueKey(["provider", "body_digest"])
            }
        }
        m.registerMigration("v11-audit-origin") { db in
            // Who with which role, from where, in which request, and the target's state before and after.
            try db.alter(table: "audit") { t in
                for column in ["role", "source", "request_id", "before", "after"] { t.add(column: column, .text) }
            }
        }
        m.registerMigration("v12-alerts") { db in
            // Each alert's state per environment (its tracker and what it last saw), and silences.
            try db.create(table: "alerts") { t in
                t.column("environment", .text).notNull()
                t.column("name", .text).notNull()
                t.column("info", .text).notNull()
                t.column("tracker", .text).notNull()
                t.primaryKey(["environment", "name"])
            }
            try db.create(table: "silences") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("environment", .text).notNull()
                t.column("alert", .text).notNull()
                t.column("until", .datetime).notNull()
                t.column("reason", .text).notNull()
                t.column("actor", .text).notNull()
                t.column("created_at", .datetime).notNull()
            }
        }
        m.registerMigration("v13-notifications") { db in
            // The outbox: one row per event and channel, written with the cursor in one transaction, then
            // delivered with retries. `key` is the idempotency key receivers see.
            try db.create(table: "notifications") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("key", .text).notNull().unique()
                t.column("channel", .text).notNull()
                t.column("event_id", .integer).notNull()
                t.column("event_type", .text).notNull()
                t.column("severity", .text).notNull()
                t.column("text", .text).notNull()
                t.column("body", .text).notNull()
                t.column("state", .text).notNull().indexed()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("next_attempt_at", .datetime).notNull()
                t.column("last_error", .text)
                t.column("created_at", .datetime).notNull()
                t.column("sent_at", .datetime)
            }
            try db.create(table: "cursors") { t in
                t.column("name", .text).primaryKey()
                t.column("event_id", .integer).notNull()
            }
        }
        m.registerMigration("v14-incidents") { db in
            // Incidents; their notes and changes are events (incident.*), which make the timeline.
            try db.create(table: "incidents") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("environment", .text).notNull().indexed()
                t.column("status", .text).notNull()
                t.column("info", .text).notNull()
            }
        }
        m.registerMigration("v15-notification-environment") { db in
            // Grouping and secret lookup by environment without parsing the body.
            try db.alter(table: "notifications") { t in t.add(column: "environment", .text) }
            try db.execute(sql: "UPDATE notifications SET environment = json_extract(body, '$.environment')")
        }
        m.registerMigration("v16-webhook-settled") { db in
            // 0 while the delivery's build runs (it outlives the answer): the next start forgets one a crash cut short.
            try db.alter(table: "webhook_deliveries") { t in t.add(column: "settled", .boolean).notNull().defaults(to: true) }
        }
        m.registerMigration("v17-deployment-provenance") { db in
            // The commit time (lead time outlives the release on disk), the deployment a rollback undoes, and why
            // a deployment ended (an automatic rollback is told from a person's abort without reading its message).
            try db.alter(table: "deployments") { t in
                t.add(column: "commit_time", .datetime)
                t.add(column: "undoes", .integer)
                t.add(column: "end_reason", .text)
            }
            // The canary analysis's evidence (its sequential test), so a restart neither forgets nor recounts it.
            try db.alter(table: "environments") { t in t.add(column: "canary_evidence", .text) }
        }
        m.registerMigration("v18-accessories") { db in
            // One row per environment and accessory: what runs (pid and start time identify it across daemon
            // restarts), what it was started with (drift), and whether it is wanted up.
            try db.create(table: "accessories") { t in
                t.column("environment", .text).notNull()
                t.column("name", .text).notNull()
                t.column("wanted", .boolean).notNull()
                t.column("pid", .integer).notNull()
                t.column("proc_start_time", .integer).notNull()
                t.column("restarts", .integer).notNull()
                t.column("crashes", .integer).notNull().defaults(to: 0)
                t.column("started_at", .datetime).notNull()
                t.column("started_with", .text).notNull()
                t.column("log_file", .text).notNull()
                t.primaryKey(["environment", "name"])
            }
        }
        m.registerMigration("v19-process-types") { db in
            // One row per running process of an unrouted type (`processes:` other than web): which release and
            // slot it is, its pid and start time (identity across daemon restarts; pid 0: crashed, waiting for its
            // back-off), and whether it is being stopped.
            try db.create(table: "workers") { t in
                t.column("environment", .text).notNull()
                t.column("type", .text).notNull()
                t.column("release", .text).notNull()
                t.column("slot", .integer).notNull()
                t.column("pid", .integer).notNull()
                t.column("proc_start_time", .integer).notNull()
                t.column("state", .text).notNull()
                t.column("restarts", .integer).notNull()
                t.column("crashes", .integer).notNull()
                t.column("started_at", .datetime).notNull()
                t.column("log_file", .text).notNull()
                t.primaryKey(["environment", "type", "release", "slot"])
            }
            // `slipway scale worker=5`: a type's count that outlives config reloads (nil row: the config's).
            try db.create(table: "process_scale") { t in
                t.column("environment", .text).notNull()
                t.column("type", .text).notNull()
                t.column("instances", .integer).notNull()
                t.primaryKey(["environment", "type"])
            }
        }
        m.registerMigration("v20-routed-process-types") { db in
            // A routed type's process listens on `port`; `serving` says the router sends it its path.
            try db.alter(table: "workers") { t in
                t.add(column: "port", .integer).notNull().defaults(to: 0)
                t.add(column: "serving", .boolean).notNull().defaults(to: false)
            }
        }
        return m
    }
}
