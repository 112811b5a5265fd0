package org.linnet.app.presentation

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob

/**
 * A model's own scope: a child of its owner's scope (so it ends with the owner's) that the model
 * can cancel alone in close(). Supervisor: one failed action must not end the model's listeners.
 */
internal fun CoroutineScope.childScope(): CoroutineScope =
    CoroutineScope(coroutineContext + SupervisorJob(coroutineContext[Job]))
