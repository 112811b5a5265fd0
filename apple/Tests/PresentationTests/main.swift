import Foundation
import Linnet
print("placeholder")
