@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.navigation.compose

import androidx.compose.runtime.Composable
class NavGraphBuilder
interface AnimatedContentScope
@Composable fun rememberNavController(): androidx.navigation.NavHostController = TODO()
@Composable fun NavHost(navController: androidx.navigation.NavHostController, startDestination: String, builder: NavGraphBuilder.() -> Unit) {}
fun NavGraphBuilder.composable(route: String, arguments: List<androidx.navigation.NamedNavArgument> = emptyList(), content: @Composable AnimatedContentScope.(androidx.navigation.NavBackStackEntry) -> Unit) {}
