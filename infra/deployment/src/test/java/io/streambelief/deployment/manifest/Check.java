package io.streambelief.deployment.manifest;

import java.util.List;

/** One aspect of the manifests checked; each problem names the file, the object and what is wrong. */
interface Check {

    List<Problem> problemsIn(Manifests manifests);
}
