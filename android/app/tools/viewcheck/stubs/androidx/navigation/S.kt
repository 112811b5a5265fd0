@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.navigation

open class NavDestination { val route: String? = null }
class NavGraph : NavDestination() { val id: Int = 0 }
class NavBackStackEntry { val arguments: android.os.Bundle? = null }
class PopUpToBuilder { var inclusive: Boolean = false }
class NavOptionsBuilder { var launchSingleTop: Boolean = false; fun popUpTo(id: Int, b: PopUpToBuilder.() -> Unit = {}) {}; fun popUpTo(route: String, b: PopUpToBuilder.() -> Unit = {}) {} }
open class NavController { val currentDestination: NavDestination? = null; val graph: NavGraph get() = TODO()
  fun navigate(route: String, builder: NavOptionsBuilder.() -> Unit = {}) {}; fun popBackStack(): Boolean = true }
class NavHostController : NavController()
class NamedNavArgument
class NavArgumentBuilder { var type: NavType<*> = NavType.StringType }
open class NavType<T> { companion object { val StringType: NavType<String?> = NavType() } }
fun navArgument(name: String, builder: NavArgumentBuilder.() -> Unit): NamedNavArgument = TODO()
