import Foundation
import SlipwayCore

extension ProcessSpawner {
    /// Starts `argv` through `launcher` (`slipway launch`), which applies `confinement` and execs the program in
    /// place: the pid returned is the program's.
    public static func spawn(argv: [String], directory: String, environment: [String: String], logFile: String,
                             confinement: Confinement, launcher: String) throws(SlipwayError) -> Spawned {
        guard let program = argv.first else { throw .usage("empty command") }
        let path = resolve(program, directory: directory, environment: environment)
        return try spawn(argv: confinement.launch(argv, program: path, launcher: launcher), directory: directory, environment: environment, logFile: logFile)
    }
}
