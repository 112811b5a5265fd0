@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.foundation.lazy

import androidx.compose.runtime.Composable
interface LazyItemScope
interface LazyListScope { fun item(key: Any? = null, content: @Composable LazyItemScope.() -> Unit) }
fun <T> LazyListScope.items(items: List<T>, key: ((T) -> Any)? = null, itemContent: @Composable LazyItemScope.(T) -> Unit) {}
class LazyListState { suspend fun animateScrollToItem(i: Int) {} }
@Composable fun rememberLazyListState(): LazyListState = TODO()
@Composable fun LazyColumn(modifier: androidx.compose.ui.Modifier = androidx.compose.ui.Modifier, state: LazyListState = TODO(), verticalArrangement: androidx.compose.foundation.layout.Arrangement.Vertical = androidx.compose.foundation.layout.Arrangement.Top, content: LazyListScope.() -> Unit) {}
