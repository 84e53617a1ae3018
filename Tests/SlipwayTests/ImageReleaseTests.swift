import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayRuntime
import Testing

/// `runtime: podman`: releases made from images (an archive loaded, a local image pinned), run as containers
/// on the host network behind the same health gate and router, switched blue-green under load, and gone after
/// `down`. The images are built here from a busybox rootfs (no registry is reachable): busybox's httpd serves
/// /health/ready and a page naming the release.
@Suite(.serialized)
struct ImageReleaseTests {
    static var podmanInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/podman") && FileManager.default.isExecutableFile(atPath: "/bin/busybox") }
    static var canRun: Bool { podmanInstalled || TestServices.required }
    static let skipNote = "needs podman, runc and busybox-static (scripts/test.sh installs them and writes /etc/containers/containers.conf)"

    @Test(.timeLimit(.minutes(3)), .enabled(if: canRun, Comment(rawValue: skipNote)))
    func imageReleasesDeployBlueGreenUnderLoadWithSecretsKeptOffTheCommandLine() async throws {
        let s = try Sandbox(extra: """
            runtime: podman
            migrate: { up: "/bin/sh -c 'echo migrated $SLIPWAY_RELEASE: $(cat /www/index.html) >> $SLIPWAY_SHARED/migrations.log'" }
            """, processes: """
            process: { instances: 2, stop_timeout: 3s, secrets: [SHOP_TOKEN], env: { GREETING: hi } }
            """)
        let tag = "localhost/slipway-test-\(UUID().uuidString.prefix(6).lowercased())"
        try FileManager.default.createDirectory(atPath: s.config.root, withIntermediateDirectories: true)
        try "SHOP_TOKEN=tok-\(UUID().uuidString)\n".write(toFile: s.config.root + "/secrets.env", atomically: true, encoding: .utf8)
        let token = try String(contentsOfFile: s.config.root + "/secrets.env", encoding: .utf8).dropFirst("SHOP_TOKEN=".count).trimmingCharacters(in: .newlines)
        // v1 as an archive (saved, then removed from podman: `--image-archive` loads it); v2 as a local image.
        let archive = try await Self.image(tag + ":v1", page: "hello from demo-app v1 (image)", in: s.dir)
        _ = try await Self.podman(["save", "--output", archive + ".saved", tag + ":v1"], in: s.dir)
        _ = try await Self.podman(["rmi", tag + ":v1"], in: s.dir)
        _ = try await Self.image(tag + ":v2", page: "hello from demo-app v2 (image)", in: s.dir)
        var failure: (any Error)?
        do { try await s.withDaemon { _ in
            let v1 = try await s.cli(["release", "create", "v1", "--image-archive", archive + ".saved"])
            #expect(v1.status == 0, "\(v1.text)")
            let v2 = try await s.cli(["release", "create", "v2", "--image", tag + ":v2", "--json"])
            #expect(v2.status == 0, "\(v2.text)")
            let pinned = try #require(ReleaseImage.read(releaseDirectory: s.config.releasesDirectory + "/v2"))
            #expect(pinned.id.hasPrefix("sha256:") && pinned.reference == tag + ":v2" && pinned.runtime == .podman, "\(pinned)")
            let bad = try await s.cli(["release", "create", "v3", "--image", "localhost/no-such-image:1"])
            #expect(bad.status == 1 && bad.text.contains("pulling localhost/no-such-image:1 failed"), "\(bad.text)")

            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let page = try await s.get()
            #expect(page.hasPrefix("200 hello from demo-app v1 (image)"), "\(page)")
            let names = try await Self.podman(["ps", "--filter", "label=slipway.app=demo", "--format", "{{.Names}}"], in: s.dir)
            #expect(names.split(separator: "\n").sorted() == ["slipway-demo-production-v1-0", "slipway-demo-production-v1-1"], "\(names)")
            // The secret reaches the container by name: the runtime's command line carries no value.
            let instance = try #require(try await s.status().instances.first)
            let cmdline = try String(contentsOfFile: "/proc/\(instance.pid)/cmdline", encoding: .utf8).replacingOccurrences(of: "\0", with: " ")
            #expect(cmdline.contains("--env SHOP_TOKEN") && !cmdline.contains(token) && cmdline.contains("--network host"), "\(cmdline)")
            let inside = try await Self.podman(["exec", "slipway-demo-production-v1-0", "/bin/sh", "-c", "echo \"$SHOP_TOKEN\""], in: s.dir)
            #expect(inside.trimmingCharacters(in: .whitespacesAndNewlines) == token)
            // What an instance uses is its container's (its cgroup), not the runtime client's (tens of MB of its own).
            let client = try #require(ProcessInspector.rss(instance.pid))
            let measured = try await poll(within: .seconds(15)) { () async throws -> InstanceInfo? in
                try await s.status().instances.first { $0.id == instance.id && $0.rssBytes != nil && $0.cpu != nil && $0.rssBytes != client }
            }
            #expect((measured.rssBytes ?? 0) > 0 && (measured.rssBytes ?? 0) < client, "container \(measured.rssBytes ?? 0) bytes, client \(client)")

            let load = LoadLoop(port: s.port)
            load.start(concurrency: 4, maxDuration: .seconds(60))
            let warmed = try? await poll(within: .seconds(5)) { load.summary.requests > 50 ? true : nil }
            #expect(warmed != nil, "\(load.summary)")
            #expect(try await s.outcome(try await s.deploy("v2")).state == .succeeded)
            _ = try await poll(within: .seconds(5)) { (load.summary.byRelease["v2"] ?? 0) > 20 ? true : nil }
            let summary = await load.stop()
            #expect(summary.failures == 0 && summary.requests > 100, "\(summary)")
            #expect(try await s.get().hasPrefix("200 hello from demo-app v2 (image)"))
            // Each deploy's migration ran in a container of the release's image, on the environment's shared data.
            let migrations = try String(contentsOfFile: s.config.sharedDirectory("production") + "/migrations.log", encoding: .utf8)
            #expect(migrations == "migrated v1: hello from demo-app v1 (image)\nmigrated v2: hello from demo-app v2 (image)\n", "\(migrations)")

            // down: no container of the app is left, running or stopped.
            #expect(try await s.cli(["down"]).status == 0)
            let left = try await Self.podman(["ps", "--all", "--filter", "label=slipway.app=demo", "--format", "{{.Names}}"], in: s.dir)
            #expect(left.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(left)")
        } } catch { failure = error }
        _ = try? await Self.podman(["rmi", "--force", tag + ":v1", tag + ":v2"], in: "/")
        if let failure { throw failure }
    }

    /// `kill -9` of the daemon: the next one finds every container (instances and a worker) again by its runtime
    /// client's pid and start time, starts none twice, and deploys the next image release under load; then a canary
    /// between the two image releases under load, the worker following at the promotion.
    @Test(.timeLimit(.minutes(3)), .enabled(if: canRun, Comment(rawValue: skipNote)))
    func aDaemonKilledAndStartedAgainReadoptsItsContainersAndACanaryRunsBetweenImages() async throws {
        let s = try Sandbox(extra: "runtime: podman\nkeep_warm: 0\ncanary: { instances: 1, steps: [{ weight: 50, pause: 1s }] }", processes: """
            processes:
              web: { instances: 2, stop_timeout: 3s }
              worker: { command: "/bin/sh -c 'while true; do sleep 1; done'", instances: 1, stop_timeout: 3s }
            """)
        let tag = "localhost/slipway-test-\(UUID().uuidString.prefix(6).lowercased())"
        _ = try await Self.image(tag + ":v1", page: "hello from demo-app v1 (image)", in: s.dir)
        _ = try await Self.image(tag + ":v2", page: "hello from demo-app v2 (image)", in: s.dir)
        var failure: (any Error)?
        do { try await s.withCrashableDaemon { crash in
            for v in ["v1", "v2"] { #expect(try await s.cli(["release", "create", v, "--image", "\(tag):\(v)"]).status == 0) }
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let pids = Set(try await s.status().instances.map(\.pid))
            let worker = try #require(try await s.status().processes?.first?.processes.first?.pid)
            try await crash()
            let after = try await s.status()
            #expect(Set(after.instances.map(\.pid)) == pids && after.instances.allSatisfy { $0.state == .running }, "\(after.instances)")
            // A few supervision passes later: still the same processes, and one container each.
            try await Task.sleep(for: .seconds(2))
            #expect(try await s.status().processes?.first?.processes.map(\.pid) == [worker])
            let names = try await Self.podman(["ps", "--filter", "label=slipway.app=demo", "--format", "{{.Names}}"], in: s.dir)
            #expect(names.split(separator: "\n").sorted() == ["slipway-demo-production-v1-0", "slipway-demo-production-v1-1", "slipway-demo-production-v1-worker-0"], "\(names)")

            let load = LoadLoop(port: s.port)
            load.start(concurrency: 4, maxDuration: .seconds(60))
            _ = try await poll(within: .seconds(5)) { load.summary.requests > 50 ? true : nil }
            #expect(try await s.outcome(try await s.deploy("v2")).state == .succeeded)
            let summary = await load.stop()
            #expect(summary.failures == 0, "\(summary)")
            let now = try await Self.podman(["ps", "--filter", "label=slipway.app=demo", "--format", "{{.Names}}"], in: s.dir)
            #expect(now.split(separator: "\n").sorted() == ["slipway-demo-production-v2-0", "slipway-demo-production-v2-1", "slipway-demo-production-v2-worker-0"], "\(now)")

            // A canary between the two image releases under load: half the traffic on v1's canary for a second, then promoted.
            let canaryLoad = LoadLoop(port: s.port)
            canaryLoad.start(concurrency: 4, maxDuration: .seconds(60))
            #expect(try await s.outcome(try await s.deploy("v1", strategy: .canary)).state == .succeeded)
            let during = await canaryLoad.stop()
            #expect(during.failures == 0 && (during.byRelease["v1"] ?? 0) > 0 && (during.byRelease["v2"] ?? 0) > 0, "\(during)")
            #expect(try await s.status().processes?.first?.processes.map(\.release) == ["v1"], "the worker follows the promotion")
        } } catch { failure = error }
        let left = (try? await Self.podman(["ps", "--all", "--filter", "label=slipway.app=demo", "--format", "{{.Names}}"], in: "/")) ?? ""
        _ = try? await Self.podman(["rmi", "--force", tag + ":v1", tag + ":v2"], in: "/")
        if let failure { throw failure }
        #expect(left.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(left)")
    }

    /// A compose file's import, deployed: the web image from a saved archive, a worker from the same image.
    @Test(.timeLimit(.minutes(3)), .enabled(if: canRun, Comment(rawValue: skipNote)))
    func anImportedComposeFileDeploysItsImagesFromAnArchive() async throws {
        let tag = "localhost/slipway-test-\(UUID().uuidString.prefix(6).lowercased())"
        let cachePort = try PortAllocator.freePort()
        let compose = """
            services:
              web:
                image: \(tag):v1
                ports: ["8080:8080"]
                healthcheck: { test: ["CMD", "wget", "-qO-", "http://localhost:8080/health/ready"], interval: 200ms }
                restart: always
              worker:
                image: \(tag):v1
                command: ["/bin/sh", "-c", "echo working on $$SLIPWAY_ENV; while true; do sleep 1; done"]
              cache:
                image: localhost/redis:slipway-test
                command: ["/bin/sh", "-c", "exec httpd -f -p \(cachePort) -h /www"]
                ports: ["\(cachePort):\(cachePort)"]
            """
        let made = try ComposeImport.convert(yaml: compose, file: "/srv/demo/docker-compose.yml", app: "demo")
        let s = try Sandbox(yaml: made.yaml.replacingOccurrences(of: "\"0.0.0.0:8080\"", with: "\"127.0.0.1:$PORT_ROUTER\""))
        let tar = try await Self.image(tag + ":v1", page: "hello from demo-app v1 (image)", in: s.dir)
        try await Self.podman(["save", "--output", tar + ".saved", tag + ":v1"], in: s.dir)
        try await Self.podman(["tag", tag + ":v1", "localhost/redis:slipway-test"], in: s.dir)  // an accessory's image, by its name
        try await Self.podman(["rmi", tag + ":v1"], in: s.dir)
        var failure: (any Error)?
        do { try await s.withDaemon { _ in
            #expect(try await s.cli(["check"]).status == 0)
            let created = try await s.cli(["release", "create", "v1", "--image-archive", tar + ".saved"])
            #expect(created.status == 0, "\(created.text)")
            #expect(try await s.outcome(try await s.deploy("v1")).state == .succeeded)
            let page = try await s.get()
            #expect(page.hasPrefix("200 hello from demo-app v1 (image)"), "\(page)")
            let worker = try #require(try await s.status().processes?.first { $0.name == "worker" })
            #expect(worker.processes.map(\.state) == [.running], "\(worker)")
            // The cache became an image accessory, ready on its port.
            let cache = try await poll(within: .seconds(20)) { () async throws -> AccessoryInfo? in
                try await s.client.get("/v1/accessories", as: [AccessoryInfo].self).first { $0.name == "cache" && $0.state == .running && $0.ready }
            }
            #expect(cache.pid != nil)
            // Each container is listed once its runtime client has created it: a moment after the client started.
            let wanted = ["slipway-demo-production-accessory-cache", "slipway-demo-production-v1-0", "slipway-demo-production-v1-worker-0"]
            _ = try await poll(within: .seconds(15)) { () async throws -> Bool? in
                let names = try await Self.podman(["ps", "--filter", "label=slipway.app=demo", "--format", "{{.Names}}"], in: s.dir)
                return names.split(separator: "\n").map(String.init).sorted() == wanted ? true : nil
            }
            #expect(try await s.cli(["down"]).status == 0)
            #expect(try await s.cli(["accessory", "stop", "cache"]).status == 0)
            let left = try await Self.podman(["ps", "--all", "--filter", "label=slipway.app=demo", "--format", "{{.Names}}"], in: s.dir)
            #expect(left.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(left)")
        } } catch { failure = error }
        _ = try? await Self.podman(["rmi", "--force", tag + ":v1", "localhost/redis:slipway-test"], in: "/")
        if let failure { throw failure }
    }

    /// Builds `tag` from a busybox rootfs whose httpd serves `page` at / and 200 at /health/ready; the rootfs tarball's path.
    static func image(_ tag: String, page: String, in dir: String) async throws -> String {
        let root = dir + "/rootfs-\(UUID().uuidString.prefix(6))"
        for sub in ["bin", "www/health"] { try FileManager.default.createDirectory(atPath: "\(root)/\(sub)", withIntermediateDirectories: true) }
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: root + "/bin/busybox")
        for applet in ["sh", "httpd"] { try FileManager.default.createSymbolicLink(atPath: "\(root)/bin/\(applet)", withDestinationPath: "busybox") }
        try "ready\n".write(toFile: root + "/www/health/ready", atomically: true, encoding: .utf8)
        try (page + "\n").write(toFile: root + "/www/index.html", atomically: true, encoding: .utf8)
        let tar = root + ".tar"
        #expect(try await ProcessSpawner.run(argv: ["tar", "-C", root, "-cf", tar, "."], directory: dir, environment: ProcessInfo.processInfo.environment,
                                             logFile: dir + "/tar.log") == 0)
        _ = try await podman(["import", "--change", #"CMD ["/bin/sh", "-c", "exec httpd -f -p $PORT -h /www"]"#, tar, tag], in: dir)
        return tar
    }

    @discardableResult
    static func podman(_ args: [String], in dir: String) async throws -> String {
        let out = dir + "/podman-\(UUID().uuidString.prefix(6)).out"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let status = try await ProcessSpawner.run(argv: ["podman"] + args, directory: dir, environment: ProcessInfo.processInfo.environment, logFile: out)
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        guard status == 0 else { throw Pebble.Failure("podman \(args.joined(separator: " ")) exited \(status): \(text)") }
        return text
    }
}
