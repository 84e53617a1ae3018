import Foundation
import Testing
@testable import SlipwayCore

/// `hosts:`, `fleet:` and `ssh:` in slipway.yml: defaults, and every mistake named by line and key.
struct FleetConfigTests {
    @Test func hostsFleetAndSSHAreReadWithTheirDefaults() throws {
        let yaml = """
            app: shop
            process: { command: ./shop }
            ssh: { slipway: /usr/local/bin/slipway, max_parallel: 5 }
            environments:
              staging: {}
              production:
                hosts: [web1, "deploy@10.0.0.3"]
                fleet: { strategy: all_at_once, on_failure: halt, healthy_deadline: 2m, progress_deadline: 10m }
              eu:
                hosts: [c1, c2, c3, c4]
                fleet: { batch: 25%, max_unavailable: 2, max_failed: 10%, pause: 30s, strategy: canary, canary: { promote: manual } }
            """
        let cfg = try ConfigLoader.parse(yaml: yaml, file: "/srv/shop/slipway.yml", directory: "/srv/shop")
        let prod = try #require(cfg.environments["production"])
        #expect(prod.hosts == ["web1", "deploy@10.0.0.3"])
        #expect(prod.fleet.strategy == .allAtOnce && prod.fleet.onFailure == .halt && prod.fleet.healthyDeadline == .seconds(120) && prod.fleet.batch == .count(1))
        #expect(prod.fleet.progressDeadline == .seconds(600) && cfg.environments["staging"]?.fleet.progressDeadline == nil)
        #expect(cfg.environments["staging"]?.hosts == [], "an environment without hosts is this host's")
        #expect(cfg.ssh.slipway == "/usr/local/bin/slipway" && cfg.ssh.maxParallel == 5 && cfg.ssh.config == nil)
        let c = try #require(cfg.environments["eu"]?.fleet)
        #expect(c.batch == .percent(25) && c.maxUnavailable == .count(2) && c.maxFailed == .percent(10) && c.pause == .seconds(30) && c.canaryPromote == .manual)
        #expect(prod.fleet.maxFailed == .count(0) && prod.fleet.maxUnavailable == nil && prod.fleet.pause == .zero)
    }

    @Test func mistakesNameTheLineAndTheKey() {
        let yaml = """
            app: shop
            process: { command: ./shop }
            ssh: { config: /nonexistent/ssh_config, parallel: 3 }
            environments:
              production:
                hosts: [web1, web1, "https://h:7443", "-oProxyCommand=x"]
                fleet: { strategy: blue-green, batch: 0, on_failure: ignore, max_failed: 150%, max_unavailable: none, pause: soon }
            """
        do {
            _ = try ConfigLoader.parse(yaml: yaml, file: "slipway.yml", directory: "/tmp")
            Issue.record("accepted a broken fleet")
        } catch {
            let text = error.description
            for expected in ["slipway.yml:6", "hosts[1]", "'web1' is listed twice", "hosts[3]", "expected an ssh destination",
                             "slipway.yml:7", "fleet.strategy", "fleet.batch", "fleet.on_failure", "fleet.max_failed", "1% to 100%, got '150%'", "fleet.max_unavailable", "fleet.pause", "slipway.yml:3", "ssh.config", "parallel"] {
                #expect(text.contains(expected), "missing \(expected) in: \(text)")
            }
        }
    }
}
