@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.compose.material3

import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.unit.Dp
import androidx.compose.foundation.layout.RowScope
import androidx.compose.foundation.layout.PaddingValues
@RequiresOptIn annotation class ExperimentalMaterial3Api
class ColorScheme { val primary = Color(0); val onPrimary = Color(0); val primaryContainer = Color(0); val onPrimaryContainer = Color(0); val surface = Color(0)
  val surfaceVariant = Color(0); val onSurfaceVariant = Color(0); val error = Color(0); val errorContainer = Color(0); val onErrorContainer = Color(0)
  val secondaryContainer = Color(0); val onSecondaryContainer = Color(0); val surfaceContainerHigh = Color(0) }
class Typography { val headlineMedium = androidx.compose.ui.text.TextStyle(); val headlineSmall = androidx.compose.ui.text.TextStyle(); val bodyMedium = androidx.compose.ui.text.TextStyle(); val bodyLarge = androidx.compose.ui.text.TextStyle()
  val bodySmall = androidx.compose.ui.text.TextStyle(); val labelMedium = androidx.compose.ui.text.TextStyle(); val labelSmall = androidx.compose.ui.text.TextStyle(); val titleSmall = androidx.compose.ui.text.TextStyle(); val titleMedium = androidx.compose.ui.text.TextStyle() }
object MaterialTheme { val colorScheme: ColorScheme @Composable get() = TODO(); val typography: Typography @Composable get() = TODO() }
@Composable fun MaterialTheme(colorScheme: ColorScheme, content: @Composable () -> Unit) {}
fun lightColorScheme(primary: Color = Color(0)): ColorScheme = TODO()
fun darkColorScheme(primary: Color = Color(0)): ColorScheme = TODO()
fun dynamicLightColorScheme(c: android.content.Context): ColorScheme = TODO()
fun dynamicDarkColorScheme(c: android.content.Context): ColorScheme = TODO()
@Composable fun Text(text: String, modifier: Modifier = Modifier, color: Color = Color.Unspecified, fontStyle: androidx.compose.ui.text.font.FontStyle? = null, fontWeight: androidx.compose.ui.text.font.FontWeight? = null, fontFamily: androidx.compose.ui.text.font.FontFamily? = null, textAlign: androidx.compose.ui.text.style.TextAlign? = null, overflow: androidx.compose.ui.text.style.TextOverflow = androidx.compose.ui.text.style.TextOverflow.Clip, maxLines: Int = Int.MAX_VALUE, style: androidx.compose.ui.text.TextStyle = androidx.compose.ui.text.TextStyle()) {}
@Composable fun Icon(imageVector: androidx.compose.ui.graphics.vector.ImageVector, contentDescription: String?, modifier: Modifier = Modifier, tint: Color = Color.Unspecified) {}
@Composable fun IconButton(onClick: () -> Unit, modifier: Modifier = Modifier, enabled: Boolean = true, content: @Composable () -> Unit) {}
class IconButtonColors
object IconButtonDefaults { @Composable fun filledIconButtonColors(containerColor: Color = Color(0), contentColor: Color = Color(0)): IconButtonColors = TODO() }
@Composable fun FilledIconButton(onClick: () -> Unit, modifier: Modifier = Modifier, enabled: Boolean = true, colors: IconButtonColors? = null, content: @Composable () -> Unit) {}
@Composable fun FilledTonalIconToggleButton(checked: Boolean, onCheckedChange: (Boolean) -> Unit, modifier: Modifier = Modifier, enabled: Boolean = true, content: @Composable () -> Unit) {}
@Composable fun Button(onClick: () -> Unit, modifier: Modifier = Modifier, enabled: Boolean = true, content: @Composable RowScope.() -> Unit) {}
@Composable fun FilledTonalButton(onClick: () -> Unit, modifier: Modifier = Modifier, enabled: Boolean = true, content: @Composable RowScope.() -> Unit) {}
@Composable fun OutlinedButton(onClick: () -> Unit, modifier: Modifier = Modifier, enabled: Boolean = true, content: @Composable RowScope.() -> Unit) {}
@Composable fun TextButton(onClick: () -> Unit, modifier: Modifier = Modifier, enabled: Boolean = true, shape: androidx.compose.ui.graphics.Shape? = null, content: @Composable RowScope.() -> Unit) {}
@Composable fun FloatingActionButton(onClick: () -> Unit, modifier: Modifier = Modifier, content: @Composable () -> Unit) {}
@Composable fun OutlinedTextField(value: String, onValueChange: (String) -> Unit, modifier: Modifier = Modifier, enabled: Boolean = true, textStyle: androidx.compose.ui.text.TextStyle = androidx.compose.ui.text.TextStyle(), label: (@Composable () -> Unit)? = null, placeholder: (@Composable () -> Unit)? = null, trailingIcon: (@Composable () -> Unit)? = null, visualTransformation: androidx.compose.ui.text.input.VisualTransformation = androidx.compose.ui.text.input.VisualTransformation.None, keyboardOptions: androidx.compose.foundation.text.KeyboardOptions = androidx.compose.foundation.text.KeyboardOptions(), keyboardActions: androidx.compose.foundation.text.KeyboardActions = androidx.compose.foundation.text.KeyboardActions(), singleLine: Boolean = false, maxLines: Int = Int.MAX_VALUE, minLines: Int = 1) {}
@Composable fun CircularProgressIndicator(modifier: Modifier = Modifier, color: Color = Color(0), strokeWidth: Dp = Dp(4f)) {}
@Composable fun LinearProgressIndicator(progress: () -> Float, modifier: Modifier = Modifier) {}
@Composable fun LinearProgressIndicator(modifier: Modifier = Modifier) {}
@Composable fun Scaffold(modifier: Modifier = Modifier, topBar: @Composable () -> Unit = {}, snackbarHost: @Composable () -> Unit = {}, floatingActionButton: @Composable () -> Unit = {}, content: @Composable (PaddingValues) -> Unit) {}
@ExperimentalMaterial3Api @Composable fun TopAppBar(title: @Composable () -> Unit, modifier: Modifier = Modifier, navigationIcon: @Composable () -> Unit = {}, actions: @Composable RowScope.() -> Unit = {}) {}
class SnackbarHostState { suspend fun showSnackbar(message: String, actionLabel: String? = null, withDismissAction: Boolean = false): Any = TODO() }
@Composable fun SnackbarHost(hostState: SnackbarHostState, modifier: Modifier = Modifier) {}
@Composable fun Surface(modifier: Modifier = Modifier, shape: androidx.compose.ui.graphics.Shape? = null, color: Color = Color(0), contentColor: Color = Color(0), tonalElevation: Dp = Dp(0f), content: @Composable () -> Unit) {}
@Composable fun ListItem(headlineContent: @Composable () -> Unit, modifier: Modifier = Modifier, supportingContent: (@Composable () -> Unit)? = null, leadingContent: (@Composable () -> Unit)? = null, trailingContent: (@Composable () -> Unit)? = null) {}
@Composable fun HorizontalDivider() {}
@Composable fun Badge(modifier: Modifier = Modifier, content: (@Composable RowScope.() -> Unit)? = null) {}
@Composable fun AlertDialog(onDismissRequest: () -> Unit, confirmButton: @Composable () -> Unit, dismissButton: (@Composable () -> Unit)? = null, title: (@Composable () -> Unit)? = null, text: (@Composable () -> Unit)? = null) {}
@Composable fun DropdownMenu(expanded: Boolean, onDismissRequest: () -> Unit, content: @Composable androidx.compose.foundation.layout.ColumnScope.() -> Unit) {}
@Composable fun DropdownMenuItem(text: @Composable () -> Unit, onClick: () -> Unit) {}
@Composable fun Switch(checked: Boolean, onCheckedChange: ((Boolean) -> Unit)?, enabled: Boolean = true) {}
@Composable fun RadioButton(selected: Boolean, onClick: (() -> Unit)?) {}
