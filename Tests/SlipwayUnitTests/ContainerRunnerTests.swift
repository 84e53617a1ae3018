import Foundation
@testable import SlipwayEngine
import SlipwayCore
import Testing

/// What a container is started with: named and labelled for the app, on the host network, the shared directory
/// mounted, limits passed, and variables by name only (a secret's value never reaches `ps`).
struct ContainerRunnerTests {
    let runner = ContainerRunner(app: "shop", logsDirectory: "/nonexistent")
    let inside = ["SLIPWAY_ENV": "production", "SLIPWAY_SHARED": "/srv/shop/shared/production", "DATABASE_PASSWORD": "s3cret-value", "PORT": "24001"]

    @Test func podmanRunNamesLabelsMountsAndPassesVariablesByNameOnly() {
        let argv = runner.runArguments("sha256:abc", runtime: .podman, name: ["production", "v2", "1"], labels: ["release": "v2", "instance": "7"],
                                       command: ["./server", "--port", "24001"], inside: inside, memoryLimit: 268_435_456, stopSignal: .quit)
        #expect(argv == ["podman", "run", "--rm", "--init", "--name", "slipway-shop-production-v2-1", "--network", "host", "--replace",
                         "--label", "slipway.app=shop", "--label", "slipway.environment=production",
                         "--label", "slipway.instance=7", "--label", "slipway.release=v2",
                         "--volume", "/srv/shop/shared/production:/srv/shop/shared/production",
                         "--memory", "268435456b", "--stop-signal", "SIGQUIT",
                         "--env", "DATABASE_PASSWORD", "--env", "PORT", "--env", "SLIPWAY_ENV", "--env", "SLIPWAY_SHARED",
                         "sha256:abc", "./server", "--port", "24001"])
        #expect(!argv.joined(separator: " ").contains("s3cret-value"), "a value is in the client's environment, never its argv")
    }

    @Test func dockerHasNoReplaceAndNothingUnasked() {
        let argv = runner.runArguments("redis:7", runtime: .docker, name: ["staging", "accessory", "redis"], labels: [:], command: [],
                                       inside: [:], memoryLimit: nil, stopSignal: nil)
        #expect(argv == ["docker", "run", "--rm", "--init", "--name", "slipway-shop-staging-accessory-redis", "--network", "host",
                         "--label", "slipway.app=shop", "--label", "slipway.environment=", "redis:7"])
    }

    @Test func aContainerGetsTheDaemonsOwnVariablesOnlyWhenDeclared() throws {
        let (name, value) = try #require(Supervisor.daemonVariables().first, "the daemon passes PATH on at least")
        let vars = [name: value, "APP_MODE": "fast"]
        #expect(ContainerRunner.variables(vars, declared: [:]) == ["APP_MODE": "fast"], "the image has its own \(name)")
        #expect(ContainerRunner.variables(vars, declared: [name: value]) == vars)
    }
}
