package io.streambelief.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GpuDriverTest {
    @TempDir
    Path dir;

    @Test
    void theScriptIsCalledWithTheAmountAndItsArgumentsAndItsIndexesBecomeGpus() throws Exception {
        Path script = script("echo \"$@\" > " + dir.resolve("called") + "; echo '3,7,9'");
        Configuration params = new Configuration();
        params.setString(GpuDriver.SCRIPT_PATH, script.toString());
        params.setString(GpuDriver.SCRIPT_ARGS, "--fake yes");

        var gpus = new GpuDriverFactory().createExternalResourceDriver(params).retrieveResourceInfo(2);

        assertThat(gpus).extracting(gpu -> gpu.getProperty("index").orElseThrow()).containsExactly("3", "7");
        assertThat(gpus).allSatisfy(gpu -> assertThat(gpu.getKeys()).containsExactly("index"));
        assertThat(Files.readString(dir.resolve("called")).strip()).isEqualTo("2 --fake yes");
    }

    @Test
    void fewerGpusThanDeclaredIsAnErrorSayingWhatTheScriptPrinted() throws Exception {
        GpuDriver driver = GpuDriver.fromParameters(Map.of(GpuDriver.SCRIPT_PATH, script("echo 0").toString()));
        assertThatThrownBy(() -> driver.retrieveResourceInfo(2))
                .hasMessageContaining("declares 2 GPU(s)").hasMessageContaining("found 1").hasMessageContaining("'0'");
    }

    @Test
    void aMissingScriptOrAFailingOneIsNamed() throws Exception {
        assertThatThrownBy(() -> GpuDriver.fromParameters(Map.of(GpuDriver.SCRIPT_PATH, "/no/such/script.sh")))
                .hasMessageContaining("/no/such/script.sh does not exist or is not executable");
        GpuDriver failing = GpuDriver.fromParameters(Map.of(GpuDriver.SCRIPT_PATH,
                script("echo 'no devices' >&2; exit 3").toString()));
        assertThatThrownBy(() -> failing.retrieveResourceInfo(1)).hasMessageContaining("exit code 3")
                .hasMessageContaining("no devices");
    }

    @Test
    void nvidiaSmisOneIndexPerLineParsesLikeCommas() {
        assertThat(GpuDriver.parse("0\n1\n")).containsExactly("0", "1");
        assertThat(GpuDriver.parse(" 2, 5 ,2")).containsExactly("2", "5");
    }

    private Path script(String body) throws Exception {
        Path script = dir.resolve("discover-" + System.nanoTime() + ".sh");
        Files.writeString(script, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }
}
